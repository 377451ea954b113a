import { type APIApplication, REST, Routes } from 'discord.js';
import { config as loadDotenv } from 'dotenv';
import { registrationPlan } from './commands/definitions.ts';
import { ConfigError, loadRegistrationConfig } from './config.ts';
import { loadCatalogue } from './services/catalogue/load-catalogue.ts';
import { redact } from './services/logging/logger.ts';

loadDotenv({ quiet: true });

/**
 * `npm run register`: puts the bot's commands on Discord. /video, /usage and Make video always
 * globally (a member's own install takes them anywhere); the admin commands in one server when
 * DISCORD_GUILD_ID is set (instant, handy while testing), otherwise globally too. The application
 * id comes from the API.
 */
async function register(): Promise<string> {
  const config = loadRegistrationConfig();
  // Before Discord is asked anything: a bad catalogue is told like a bad setting. No video key needed.
  const catalogue = loadCatalogue(config, process.env, { keys: false });
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(
    config.DISCORD_TOKEN,
  );
  const application = (await rest.get(Routes.currentApplication())) as APIApplication;
  const plan = registrationPlan(config, catalogue);
  const guildId = config.DISCORD_GUILD_ID;
  const names = (list: typeof plan.global) => list.map((definition) => definition.name).join(', ');
  if (!guildId) {
    const all = [...plan.global, ...plan.server];
    await rest.put(Routes.applicationCommands(application.id), { body: all });
    return `Registered ${all.length} commands (${names(all)}) for ${application.name} globally.`;
  }
  // A user install's commands are global even while testing in one server: Discord reads
  // integration_types and contexts on global commands only.
  await rest.put(Routes.applicationCommands(application.id), { body: plan.global });
  await rest.put(Routes.applicationGuildCommands(application.id, guildId), { body: plan.server });
  return `Registered ${plan.global.length} commands (${names(plan.global)}) for ${application.name} globally and ${plan.server.length} (${names(plan.server)}) in server ${guildId}.`;
}

try {
  console.log(await register());
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `Registration failed: ${String(error)}`;
  console.error(redact(message, process.env.DISCORD_TOKEN ? [process.env.DISCORD_TOKEN] : []));
  process.exit(1);
}
