import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Events, GatewayIntentBits, MessageFlags, PermissionFlagsBits } from 'discord.js';
import type {
  APIApplicationCommandInteractionDataBasicOption,
  APIChatInputApplicationCommandInteraction,
  APIInteractionDataResolved,
  APIMessage,
  InteractionType,
} from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlashCommand } from '../../../src/commands/command.ts';
import { MANAGE_SERVER_REQUIRED } from '../../../src/commands/preconditions.ts';
import { Router } from '../../../src/commands/router.ts';
import { createQuotaCommand } from '../../../src/commands/slash/quota.ts';
import { createUsageCommand } from '../../../src/commands/slash/usage.ts';
import { createVideoSettingsCommand } from '../../../src/commands/slash/video-settings.ts';
import { catalogueFromSettings } from '../../../src/services/catalogue/settings-catalogue.ts';
import { createLogger, silentLogger } from '../../../src/services/logging/logger.ts';
import { periodEnd } from '../../../src/services/quotas/quota-rules.ts';
import { QuotaService } from '../../../src/services/quotas/quota-service.ts';
import { SafetySettings } from '../../../src/services/safety/safety-settings.ts';
import { VideoSettings } from '../../../src/services/settings/video-settings.ts';
import { createStore } from '../../../src/services/store/create-store.ts';
import type { Store } from '../../../src/services/store/store.ts';
import {
  type FakeDiscord,
  type FakeMember,
  startFakeDiscord,
} from '../../fakes/fake-discord/fake-discord.ts';

/**
 * The quota, usage and settings commands through the real discord.js Client against the fake
 * Discord. The fake delivers every command whatever its default permissions, as Discord does once
 * a server admin widens them, so the handlers' own permission checks are what is tested.
 */

type CommandOption = APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommand>;

const MODELS = ['sora-2', 'sora-2-pro'];
const CATALOGUE = catalogueFromSettings({
  SORA_API_URL: 'http://127.0.0.1:1',
  SORA_MODEL: 'sora-2',
  SORA_MODELS: ['sora-2-pro'],
  SORA_API_FORMAT: 'chat',
});

describe('quota commands through discord.js', () => {
  let discord: FakeDiscord;
  let client: Client;
  let store: Store;
  let dataDir: string;
  let quotas: QuotaService;
  let admin: FakeMember;
  const handlerErrors: unknown[] = [];

  beforeAll(async () => {
    discord = await startFakeDiscord();
    dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-commands-'));
    store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 5_000 });
    const defaults = {
      memberLimit: 0,
      serverLimit: 0,
      period: 'day' as const,
      maxRunningPerMember: 1,
      cooldownSeconds: 0,
    };
    quotas = new QuotaService({ store, defaults, ownerIds: [], logger: silentLogger });
    const commands: SlashCommand[] = [
      createQuotaCommand({ quotas, logger: silentLogger }),
      createUsageCommand({ quotas }),
      createVideoSettingsCommand({
        settings: new VideoSettings({ store, offeredModels: MODELS }),
        catalogue: CATALOGUE,
        safety: { safety: new SafetySettings({ store }), ageRestrictedEverywhere: false },
      }),
    ];
    // Through the router, which checks each command's preconditions; a handler failure is a test failure.
    const logger = createLogger({
      write: (line) => {
        if (line.includes('"event":"interaction_failed"')) handlerErrors.push(line);
      },
    });
    const router = new Router({ commands, buttons: [], modals: [], triggers: [], logger });
    client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: discord.apiUrl, timeout: 10_000 },
    });
    client.on(Events.InteractionCreate, (interaction) => void router.handleInteraction(interaction));
    const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
    await client.login(discord.botToken);
    await ready;
    await discord.ready();
    admin = discord.member({
      username: 'admin',
      permissions: PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ViewChannel,
    });
  });

  afterEach(() => {
    expect(handlerErrors).toEqual([]);
  });

  afterAll(async () => {
    await client?.destroy();
    await discord?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  interface Invocation {
    group?: string;
    subcommand?: string;
    options?: CommandOption[];
    /** The objects Discord resolves role, user and channel options to. */
    resolved?: APIInteractionDataResolved;
  }

  /** Sends a slash command and resolves with the bot's reply, checking it pings nobody. */
  async function run(name: string, member: FakeMember, invocation: Invocation = {}): Promise<APIMessage> {
    const { group, subcommand, options, resolved } = invocation;
    const ix = discord.slashCommand({
      name,
      member,
      subcommandGroup: group,
      subcommand,
      options,
      dispatch: false,
    });
    if (resolved) (ix.payload as APIChatInputApplicationCommandInteraction).data.resolved = resolved;
    discord.dispatchInteraction(ix);
    const callback = await discord.waitForCallback(ix);
    expect(callback.body).toMatchObject({ data: { allowed_mentions: { parse: [] } } });
    return discord.waitForOriginal(ix);
  }

  const dailyLimitOfOne: CommandOption[] = [
    { name: 'count', type: 4, value: 1 },
    { name: 'period', type: 3, value: 'day' },
  ];

  it('registers /quota and /video-settings for Manage Server, in servers only', () => {
    const quota = createQuotaCommand({ quotas, logger: silentLogger }).definition;
    expect(quota).toMatchObject({
      default_member_permissions: String(PermissionFlagsBits.ManageGuild),
      contexts: [0],
    });
    const settings = createVideoSettingsCommand({
      settings: new VideoSettings({ store, offeredModels: MODELS }),
      catalogue: CATALOGUE,
      safety: { safety: new SafetySettings({ store }), ageRestrictedEverywhere: false },
    }).definition;
    expect(settings).toMatchObject({
      default_member_permissions: String(PermissionFlagsBits.ManageGuild),
      contexts: [0],
    });
  });

  it("refuses a non-admin's /quota in the handler, even though Discord let the command through", async () => {
    const guildId = discord.guild.id;
    const reply = await run('quota', discord.defaultMember, {
      group: 'limit',
      subcommand: 'everyone',
      options: dailyLimitOfOne,
    });
    expect(reply.content).toBe(MANAGE_SERVER_REQUIRED);
    expect((reply.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect((await quotas.listRules(guildId)).rules.everyone).toBeUndefined();
  });

  it("refuses a non-admin's /video-settings too", async () => {
    const reply = await run('video-settings', discord.defaultMember, { subcommand: 'show' });
    expect(reply.content).toBe(MANAGE_SERVER_REQUIRED);
  });

  it('an admin sets one video a day for every member, and /quota show reflects it', async () => {
    const set = await run('quota', admin, {
      group: 'limit',
      subcommand: 'everyone',
      options: dailyLimitOfOne,
    });
    expect(set.content).toBe('Every member can now make 1 video a day.');
    expect((set.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);

    const show = await run('quota', admin, { subcommand: 'show' });
    expect(show.content).toContain('Every member: 1 video a day');
    expect(show.content).toContain('Usage today');
  });

  it('/usage shows used of allowed, videos in progress, and the reset as a relative timestamp', async () => {
    const member = discord.member({ username: 'bob' });
    await quotas.setRule(discord.guild.id, { kind: 'everyone' }, { count: 1, period: 'day' });
    const reserved = await quotas.reserve({ guildId: discord.guild.id, userId: member.user.id, roleIds: [] });
    expect(reserved.ok).toBe(true);

    const before = periodEnd('day', Date.now());
    const reply = await run('usage', member);
    const after = periodEnd('day', Date.now());
    expect(reply.content).toContain('**Your videos today:** 1 of 1 used, 0 left.');
    expect(reply.content).toContain('In progress now: 1 video (at most 1 at once).');
    const resetAt = Number(reply.content.match(/Resets <t:(\d+):R>/)?.[1]) * 1000;
    expect([before, after]).toContain(resetAt);
    expect((reply.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  });

  it('/usage shows an exempt member as unlimited', async () => {
    const staff = discord.role({ name: 'Staff' });
    await run('quota', admin, {
      subcommand: 'exempt',
      options: [{ name: 'role', type: 8, value: staff.id }],
      resolved: { roles: { [staff.id]: staff } },
    });
    const member = discord.member({ username: 'carol', roles: [staff.id] });
    const reply = await run('usage', member);
    expect(reply.content).toContain(`unlimited (exempt through <@&${staff.id}>)`);
  });

  it('/video-settings restricts the bot to a channel and shows it', async () => {
    const channel = discord.otherChannel;
    const channelId = channel.id;
    const added = await run('video-settings', admin, {
      group: 'channels',
      subcommand: 'add',
      options: [{ name: 'channel', type: 7, value: channelId }],
      resolved: { channels: { [channelId]: { ...channel, permissions: '0' } } },
    });
    expect(added.content).toContain(`The bot answers only in <#${channelId}>.`);
    const show = await run('video-settings', admin, { subcommand: 'show' });
    expect(show.content).toContain(`<#${channelId}>`);
  });
});
