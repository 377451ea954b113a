import 'dotenv/config';
import { startApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { redact } from './services/logger.ts';

try {
  const app = await startApp(loadConfig());
  const stop = (signal: string) => {
    app.logger.info('shutdown_requested', { signal });
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `sora-bot could not start: ${String(error)}`;
  const secrets = [process.env.DISCORD_TOKEN, process.env.SORA_API_KEY].filter(
    (value): value is string => !!value,
  );
  console.error(redact(message, secrets));
  process.exit(1);
}
