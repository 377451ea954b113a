import { Client, Events, GatewayIntentBits } from 'discord.js';

/**
 * Bench 1's yardstick for answer time: a bare discord.js client that does nothing but defer every
 * interaction, in a process of its own like the bot. What it achieves is the floor that discord.js,
 * its REST client and loopback HTTP set on this machine, whatever the bot does.
 */

const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
  rest: { api: process.env.DISCORD_API_URL },
});
client.on(Events.InteractionCreate, (interaction) => {
  if (interaction.isRepliable()) void interaction.deferReply().catch(() => {});
});
const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
await client.login(process.env.DISCORD_TOKEN);
await ready;

process.on('message', (message: { cmd: string }) => {
  if (message.cmd !== 'stop') return;
  void client.destroy().finally(() => process.exit(0));
});
process.on('disconnect', () => process.exit(1));
process.send?.({ type: 'ready', startupMs: 0, rss: process.memoryUsage.rss() });
