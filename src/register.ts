import { type APIApplication, REST, Routes } from 'discord.js';
import { config as loadDotenv } from 'dotenv';
import { commandDefinitions } from './commands/definitions.ts';
import { ConfigError, loadRegistrationConfig } from './config.ts';
import { loadCatalogue } from './services/catalogue/load-catalogue.ts';
import { redact } from './services/logging/logger.ts';

loadDotenv({ quiet: true });

/**
 * `npm run register`: puts the bot's commands on Discord — in one server when DISCORD_GUILD_ID is
 * set (instant, handy while testing), otherwise globally. The application id comes from the API.
 */
async function register(): Promise<string> {
  const config = loadRegistrationConfig();
  // Before Discord is asked anything: a bad catalogue is told like a bad setting. No video key needed.
  const catalogue = loadCatalogue(config, process.env, { keys: false });
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(
    config.DISCORD_TOKEN,
  );
  const application = (await rest.get(Routes.currentApplication())) as APIApplication;
  const definitions = commandDefinitions(config, catalogue);
  const guildId = config.DISCORD_GUILD_ID;
  const route = guildId
    ? Routes.applicationGuildCommands(application.id, guildId)
    : Routes.applicationCommands(application.id);
  await rest.put(route, { body: definitions });
  const names = definitions.map((definition) => definition.name).join(', ');
  return guildId
    ? `Registered ${definitions.length} commands (${names}) for ${application.name} in server ${guildId}.`
    : `Registered ${definitions.length} commands (${names}) for ${application.name} globally.`;
}

try {
  console.log(await register());
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `Registration failed: ${String(error)}`;
  console.error(redact(message, process.env.DISCORD_TOKEN ? [process.env.DISCORD_TOKEN] : []));
  process.exit(1);
}
