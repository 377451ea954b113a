import { config as loadDotenv } from 'dotenv';
import { startApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { redact } from './services/logging/logger.ts';

loadDotenv({ quiet: true });

try {
  const app = await startApp(loadConfig());
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info('shutdown_requested', { signal });
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // npm does not pass SIGTERM on to the script it runs: when `npm start` is stopped, the bot is left
  // behind with a new parent. Treat that like SIGTERM, so jobs still end cleanly.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop('parent-exited');
  }, 1_000).unref();
} catch (error) {
  const message = error instanceof ConfigError ? error.message : startFailure(error);
  const secrets = [process.env.DISCORD_TOKEN, process.env.SORA_API_KEY].filter(
    (value): value is string => !!value,
  );
  console.error(redact(message, secrets));
  process.exit(1);
}

function startFailure(error: unknown): string {
  const text = String(error);
  if (/disallowed intents/i.test(text)) {
    return 'sora-bot could not start: Discord refused the Message Content intent. Enable "Message Content Intent" for the bot in the Developer Portal, or set MESSAGE_CONTENT_INTENT=false.';
  }
  if (/invalid token/i.test(text)) {
    return 'sora-bot could not start: Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer Portal.';
  }
  return `sora-bot could not start: ${text}`;
}
