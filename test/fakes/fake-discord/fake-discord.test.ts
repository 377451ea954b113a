import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Interaction,
  LabelBuilder,
  type Message,
  MessageFlags,
  ModalBuilder,
  Partials,
  PermissionFlagsBits,
  type RateLimitData,
  REST,
  Routes,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ATTACHMENT_SIZE_LIMIT,
  type FakeDiscord,
  type FakeGuild,
  Intent,
  MessageFlag,
  startFakeDiscord,
} from './fake-discord.ts';

/**
 * Proves the fake against the REAL discord.js 14.28.1 Client: REST over loopback HTTP, gateway
 * over a loopback WebSocket, no mocks of discord.js internals.
 */

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const MP4 = Buffer.concat([Buffer.from('000000206674797069736f6d', 'hex'), Buffer.alloc(4096, 7)]);

function makeClient(discord: FakeDiscord, intents: GatewayIntentBits[]): Client {
  return new Client({ intents, rest: { api: discord.apiUrl, timeout: 10_000 } });
}

async function login(client: Client, discord: FakeDiscord): Promise<void> {
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(discord.botToken);
  await ready;
}

/** Runs `handler` on the next interaction the client receives; resolves with its result. */
function onNextInteraction<T>(client: Client, handler: (interaction: Interaction) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client.once(Events.InteractionCreate, (interaction) => {
      handler(interaction).then(resolve, reject);
    });
  });
}

function onNextMessage(client: Client, filter: (message: Message) => boolean): Promise<Message> {
  return new Promise<Message>((resolve) => {
    const listener = (message: Message) => {
      if (!filter(message)) return;
      client.off(Events.MessageCreate, listener);
      resolve(message);
    };
    client.on(Events.MessageCreate, listener);
  });
}

async function apiError(promise: Promise<unknown>): Promise<DiscordAPIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DiscordAPIError) return error;
    throw error;
  }
  throw new Error('expected a DiscordAPIError');
}

describe('fake Discord with the real discord.js Client', () => {
  let discord: FakeDiscord;
  let client: Client;

  beforeAll(async () => {
    discord = await startFakeDiscord();
    client = makeClient(discord, [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
    ]);
    await login(client, discord);
    await discord.ready();
  });

  afterEach(() => {
    discord.clearFaults();
    discord.settings.callbackDeadlineMs = 3_000;
  });

  afterAll(async () => {
    await client?.destroy();
    await discord?.close();
  });

  it('logs in: IDENTIFY intents are recorded and the guilds and channels are cached', () => {
    expect(discord.lastIdentify?.intents).toBe(Intent.Guilds | Intent.GuildMessages | Intent.MessageContent);
    expect(client.user?.id).toBe(discord.botUser.id);
    expect(client.application?.id).toBe(discord.applicationId);
    expect(client.guilds.cache.map((guild) => guild.id).sort()).toEqual(
      [discord.guild.id, discord.otherGuild.id].sort(),
    );
    const channel = client.channels.cache.get(discord.channel.id);
    expect(channel?.isTextBased()).toBe(true);
    const guild = client.guilds.cache.get(discord.guild.id);
    expect(guild?.members.me?.id).toBe(discord.botUser.id);
    expect(discord.requests.find((request) => request.path === '/gateway/bot')?.auth).toBe('bot');
  });

  it('slash command with an attachment: defer, progress edit, final edit with a file', async () => {
    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.deferReply();
      const image = interaction.options.getAttachment('image', true);
      const downloaded = Buffer.from(await (await fetch(image.url)).arrayBuffer());
      await interaction.editReply('50%');
      await interaction.editReply({ content: 'done', files: [MP4] });
      return {
        prompt: interaction.options.getString('prompt'),
        limit: interaction.attachmentSizeLimit,
        created: interaction.createdTimestamp,
        image: { name: image.name, size: image.size, contentType: image.contentType, downloaded },
      };
    });
    const ix = discord.slashCommand({
      name: 'video',
      options: [{ name: 'prompt', type: 3, value: 'a cat surfing' }],
      attachments: [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG }],
    });
    const seen = await handled;

    expect(seen.prompt).toBe('a cat surfing');
    expect(seen.limit).toBe(DEFAULT_ATTACHMENT_SIZE_LIMIT);
    expect(Math.abs(seen.created - ix.createdAt)).toBeLessThan(2);
    expect(seen.image).toMatchObject({ name: 'cat.png', size: PNG.length, contentType: 'image/png' });
    expect(seen.image.downloaded.equals(PNG)).toBe(true);

    const callback = await discord.waitForCallback(ix);
    expect(callback.body).toMatchObject({ type: 5 });
    expect(callback.auth).toBe('none');
    const edits = discord.requestsFor(ix).filter((request) => request.method === 'PATCH');
    expect(edits.map((request) => request.route)).toEqual([
      '/webhooks/:applicationId/:token/messages/@original',
      '/webhooks/:applicationId/:token/messages/@original',
    ]);
    expect(edits[0]?.body).toMatchObject({ content: '50%' });
    const upload = edits[1]?.files[0];
    expect(upload?.bytes.equals(MP4)).toBe(true);
    expect(upload?.name).toBe('file.jpg');

    const original = await discord.waitForOriginal(ix, (message) => message.attachments.length === 1);
    expect(original.content).toBe('done');
    expect((original.flags ?? 0) & MessageFlag.Loading).toBe(0);
    expect(original.interaction_metadata?.authorizing_integration_owners).toEqual({ 0: discord.guild.id });
    expect(original.attachments[0]?.size).toBe(MP4.length);
    expect(discord.attachmentBytes(original.attachments[0]?.url ?? '')?.equals(MP4)).toBe(true);
    const served = Buffer.from(await (await fetch(original.attachments[0]?.url ?? '')).arrayBuffer());
    expect(served.equals(MP4)).toBe(true);
    expect(discord.messageHistory(original.id).map((message) => message.content)).toEqual([
      '',
      '50%',
      'done',
    ]);
  });

  it('an oversize file surfaces as DiscordAPIError 40005 (413) and leaves the message unchanged', async () => {
    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.deferReply();
      await interaction.editReply('rendering');
      return apiError(interaction.editReply({ content: 'too big', files: [Buffer.alloc(2048)] }));
    });
    const ix = discord.slashCommand({ name: 'video', attachmentSizeLimit: 1024 });
    const error = await handled;
    expect(error.code).toBe(40005);
    expect(error.status).toBe(413);
    expect(discord.originalResponse(ix)?.content).toBe('rendering');
  });

  it('a button click: deferUpdate, then the message is edited through the click token', async () => {
    const replied = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      const cancel = new ButtonBuilder()
        .setCustomId('cancel:job1')
        .setLabel('Cancel')
        .setStyle(ButtonStyle.Danger);
      await interaction.reply({
        content: 'working',
        components: [new ActionRowBuilder<ButtonBuilder>().addComponents(cancel)],
      });
    });
    const command = discord.slashCommand({ name: 'video' });
    await replied;
    const message = await discord.waitForOriginal(command);
    expect(() => discord.clickButton({ message, customId: 'nope' })).toThrow(/no button "nope"/);

    const clicker = discord.member({ username: 'bob' });
    const clicked = onNextInteraction(client, async (interaction) => {
      if (!interaction.isButton()) throw new Error('expected a button');
      await interaction.deferUpdate();
      await interaction.editReply({ content: 'cancelled', components: [] });
      return { customId: interaction.customId, user: interaction.user.id, messageId: interaction.message.id };
    });
    const click = discord.clickButton({ message, customId: 'cancel:job1', member: clicker });
    expect(await clicked).toEqual({ customId: 'cancel:job1', user: clicker.user.id, messageId: message.id });
    expect((await discord.waitForCallback(click)).body).toMatchObject({ type: 6 });
    const edited = discord.messageState(message.id);
    expect(edited?.content).toBe('cancelled');
    expect(edited?.components).toEqual([]);
  });

  it('MESSAGE_CREATE with an attachment reaches messageCreate', async () => {
    const received = onNextMessage(client, (message) => message.content === 'make this move');
    const sent = discord.sendMessage({
      content: 'make this move',
      attachments: [{ filename: 'still.png', contentType: 'image/png', bytes: PNG }],
    });
    const message = await received;
    expect(message.id).toBe(sent.id);
    expect(message.author.id).toBe(discord.defaultMember.user.id);
    expect(message.member?.id).toBe(discord.defaultMember.user.id);
    const attachment = message.attachments.first();
    expect(attachment?.name).toBe('still.png');
    expect(Buffer.from(await (await fetch(attachment?.url ?? '')).arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('message context menu → showModal → submitModal delivers the fields', async () => {
    const target = discord.sendMessage({
      content: 'source',
      attachments: [{ filename: 'frame.png', contentType: 'image/png', bytes: PNG }],
    });
    const shown = onNextInteraction(client, async (interaction) => {
      if (!interaction.isMessageContextMenuCommand()) throw new Error('expected a message context menu');
      const prompt = new TextInputBuilder()
        .setCustomId('prompt')
        .setStyle(TextInputStyle.Paragraph)
        .setMaxLength(40);
      await interaction.showModal(
        new ModalBuilder()
          .setCustomId('animate:1')
          .setTitle('Animate')
          .addLabelComponents(new LabelBuilder().setLabel('Prompt').setTextInputComponent(prompt)),
      );
      return interaction.targetMessage.attachments.first()?.name;
    });
    const menu = discord.messageContextMenu({ name: 'Animate', targetMessage: target });
    expect(await shown).toBe('frame.png');
    expect(menu.modal?.custom_id).toBe('animate:1');

    expect(() => discord.submitModal({ customId: 'animate:1', fields: { prompt: 'x'.repeat(41) } })).toThrow(
      /at most 40/,
    );
    const submitted = onNextInteraction(client, async (interaction) => {
      if (!interaction.isModalSubmit()) throw new Error('expected a modal submit');
      await interaction.reply({ content: 'queued', flags: MessageFlags.Ephemeral });
      return { customId: interaction.customId, prompt: interaction.fields.getTextInputValue('prompt') };
    });
    const modal = discord.submitModal({ customId: 'animate:1', fields: { prompt: 'waves crash' } });
    expect(await submitted).toEqual({ customId: 'animate:1', prompt: 'waves crash' });
    const reply = await discord.waitForOriginal(modal);
    expect(reply.flags).toBe(MessageFlag.Ephemeral);
    expect(discord.messageRecord(reply.id)?.ephemeral).toBe(true);
  });

  it('an interaction older than the token lifetime: deferReply works, editReply rejects with 50027', async () => {
    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.deferReply();
      return apiError(interaction.editReply('too late'));
    });
    discord.slashCommand({ name: 'video', createdAt: Date.now() - 16 * 60_000 });
    const error = await handled;
    expect(error.code).toBe(50027);
    expect(error.status).toBe(401);
  });

  it('expireToken invalidates followups too', async () => {
    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.deferReply();
      discord.expireToken(ix);
      return apiError(interaction.followUp('result'));
    });
    const ix = discord.slashCommand({ name: 'video' });
    expect((await handled).code).toBe(50027);
  });

  it('a late callback gets 10062 and a second acknowledgement gets 40060', async () => {
    discord.settings.callbackDeadlineMs = 20;
    const late = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await new Promise((resolve) => setTimeout(resolve, 60));
      return apiError(interaction.deferReply());
    });
    discord.slashCommand({ name: 'video' });
    expect((await late).code).toBe(10062);

    discord.settings.callbackDeadlineMs = 3_000;
    const twice = onNextInteraction(client, async (interaction) => {
      await interaction.client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
        body: { type: 5 },
        auth: false,
      });
      return apiError(
        interaction.client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
          body: { type: 5 },
          auth: false,
        }),
      );
    });
    discord.slashCommand({ name: 'video' });
    expect((await twice).code).toBe(40060);
  });

  it('failNext 429 then 502 on an edit: discord.js waits, retries and succeeds', async () => {
    const rateLimits: RateLimitData[] = [];
    const onRateLimited = (data: RateLimitData) => rateLimits.push(data);
    client.rest.on('rateLimited', onRateLimited);
    const fault = discord.failNext({
      method: 'PATCH',
      route: '/messages/@original',
      status: 429,
      retryAfter: 0.2,
    });
    const serverError = discord.failNext({ method: 'PATCH', route: /@original$/, status: 502 });
    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.deferReply();
      await interaction.editReply('after the limit');
    });
    const ix = discord.slashCommand({ name: 'video' });
    await handled;
    client.rest.off('rateLimited', onRateLimited);
    expect([fault.hits, serverError.hits]).toEqual([1, 1]);
    expect(rateLimits[0]).toMatchObject({ scope: 'user' });
    const statuses = discord
      .requestsFor(ix)
      .filter((request) => request.method === 'PATCH')
      .map((r) => r.status);
    expect(statuses).toEqual([429, 502, 200]);
    expect(discord.originalResponse(ix)?.content).toBe('after the limit');
  });

  it('failNext can script Discord errors on bot routes; channel.send uploads are limited and permission-checked', async () => {
    const channel = await client.channels.fetch(discord.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    discord.failNext({
      route: `/channels/${discord.channel.id}/messages`,
      method: 'POST',
      status: 403,
      code: 50013,
    });
    const forbidden = await apiError(channel.send('hello'));
    expect([forbidden.code, forbidden.status]).toEqual([50013, 403]);

    const sent = await channel.send({ content: 'result', files: [{ attachment: MP4, name: 'result.mp4' }] });
    const stored = discord.channelMessages().find((message) => message.id === sent.id);
    expect(stored?.attachments[0]).toMatchObject({
      filename: 'result.mp4',
      content_type: 'video/mp4',
      size: MP4.length,
    });
    expect(discord.requests.at(-1)?.auth).toBe('bot');

    discord.settings.guildUploadLimit = 100;
    expect((await apiError(channel.send({ files: [{ attachment: MP4, name: 'big.mp4' }] }))).code).toBe(
      40005,
    );
    discord.settings.guildUploadLimit = DEFAULT_ATTACHMENT_SIZE_LIMIT;

    discord.setAppPermissions(0n, discord.otherChannel.id);
    const other = await client.channels.fetch(discord.otherChannel.id);
    if (!other?.isSendable()) throw new Error('expected a sendable channel');
    expect((await apiError(other.send('nope'))).code).toBe(50013);
  });

  it('unauthenticated bot routes get 401; command registration is stored and validated', async () => {
    const anonymous = await fetch(`${discord.apiUrl}/v10/users/@me`);
    expect(anonymous.status).toBe(401);

    await client.application?.commands.set([
      {
        name: 'video',
        description: 'Make a video',
        options: [{ name: 'prompt', description: 'What', type: 3, required: true }],
      },
      { name: 'Animate', type: 3 },
    ]);
    expect(discord.registeredCommands.global.map((command) => command.name)).toEqual(['video', 'Animate']);
    await client.application?.commands.set([{ name: 'status', description: 'Queue' }], discord.guild.id);
    expect(discord.registeredCommands.guilds[discord.guild.id]?.map((command) => command.name)).toEqual([
      'status',
    ]);
    const application = await client.application?.fetch();
    expect(application?.id).toBe(discord.applicationId);
    const member = await client.guilds.cache
      .get(discord.guild.id)
      ?.members.fetch(discord.defaultMember.user.id);
    expect(member?.user.username).toBe('alice');
    const invalid = await apiError(
      client.application?.commands.set([{ name: 'Bad Name', description: 'x' }]) ?? Promise.resolve(),
    );
    expect(invalid.code).toBe(50035);
  });

  it('roles, permissions, subcommands and DMs reach discord.js as Discord sends them', async () => {
    const plus = discord.role({ name: 'Video Plus' });
    const admin = discord.member({
      username: 'admin',
      permissions: PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ViewChannel,
    });
    const subscriber = discord.member({ username: 'sub', roles: [plus.id] });
    const seen = () =>
      onNextInteraction(client, async (interaction) => {
        if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
        await interaction.reply({ content: 'ok', flags: MessageFlags.Ephemeral });
        const roles = interaction.inCachedGuild() ? [...interaction.member.roles.cache.keys()] : [];
        return {
          manageGuild: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? null,
          hasPlus: roles.includes(plus.id),
          sub: interaction.options.getSubcommand(false),
          count: interaction.options.getInteger('count'),
          inGuild: interaction.inGuild(),
          user: interaction.user.id,
        };
      });
    const asAdmin = seen();
    discord.slashCommand({ name: 'queue', subcommand: 'clear', member: admin });
    expect(await asAdmin).toMatchObject({ manageGuild: true, sub: 'clear', inGuild: true });
    const asSubscriber = seen();
    discord.slashCommand({
      name: 'video',
      options: [{ name: 'count', type: 4, value: 2 }],
      member: subscriber,
    });
    expect(await asSubscriber).toMatchObject({ manageGuild: false, hasPlus: true, count: 2 });
    const inDm = seen();
    const dm = discord.slashCommand({ name: 'video', guild: false });
    expect(await inDm).toMatchObject({
      manageGuild: null,
      inGuild: false,
      user: discord.defaultMember.user.id,
    });
    expect(discord.originalResponse(dm)?.channel_id).toBe(discord.dmChannel(discord.defaultMember).id);
  });

  it('autocomplete, followUp, fetchReply, deleteReply and with_response callbacks', async () => {
    const completed = onNextInteraction(client, async (interaction) => {
      if (!interaction.isAutocomplete()) throw new Error('expected autocomplete');
      await interaction.respond([{ name: 'sora-2', value: 'sora-2' }]);
      return interaction.options.getFocused();
    });
    const auto = discord.autocomplete({
      name: 'video',
      options: [{ name: 'model', type: 3, value: 'so', focused: true }],
    });
    expect(await completed).toBe('so');
    expect(auto.autocompleteChoices).toEqual([{ name: 'sora-2', value: 'sora-2' }]);

    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      const response = await interaction.deferReply({ withResponse: true });
      const followUp = await interaction.followUp({ content: 'extra', flags: MessageFlags.Ephemeral });
      const fetched = await interaction.fetchReply();
      await interaction.deleteReply();
      return {
        loading: response.interaction.responseMessageLoading,
        followUpId: followUp.id,
        fetchedId: fetched.id,
      };
    });
    const ix = discord.slashCommand({ name: 'video' });
    const result = await handled;
    expect(result.loading).toBe(true);
    expect(result.fetchedId).toBe(ix.originalMessageId);
    expect(discord.followups(ix).map((message) => message.id)).toEqual([result.followUpId]);
    expect(discord.followups(ix)[0]?.interaction_metadata?.original_response_message_id).toBe(
      ix.originalMessageId,
    );
    expect(discord.originalResponse(ix)).toBeUndefined();
    expect(discord.messageRecord(result.fetchedId)?.deleted).toBe(true);
  });

  it('the bot receives its own messages, as from Discord', async () => {
    const channel = await client.channels.fetch(discord.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    const echoed = onNextMessage(client, (message) => message.content === 'echo me');
    const sent = await channel.send('echo me');
    const echo = await echoed;
    expect([echo.id, echo.author.bot]).toEqual([sent.id, true]);
  });

  it('enforceEditRateLimit throttles bursts of edits yet every edit lands', async () => {
    discord.enforceEditRateLimit({ limit: 2, windowMs: 400 });
    try {
      const handled = onNextInteraction(client, async (interaction) => {
        if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
        await interaction.deferReply();
        const started = Date.now();
        for (const step of ['10%', '20%', '30%', '40%']) await interaction.editReply(step);
        return Date.now() - started;
      });
      const ix = discord.slashCommand({ name: 'video' });
      expect(await handled).toBeGreaterThanOrEqual(350);
      expect(discord.messageHistory(ix.originalMessageId ?? '').map((message) => message.content)).toEqual([
        '',
        '10%',
        '20%',
        '30%',
        '40%',
      ]);
    } finally {
      discord.enforceEditRateLimit(null);
    }
  });

  it('a delayed answer trips the REST timeout and the retry posts the message twice (as @discordjs/rest retries an aborted request)', async () => {
    const rest = new REST({ api: discord.apiUrl, timeout: 150, retries: 1 }).setToken(discord.botToken);
    const route = Routes.channelMessages(discord.otherGuildChannel.id);
    discord.failNext({ method: 'POST', route, delayMs: 400 });
    await rest.post(route, { body: { content: 'posted once?' } });
    await discord.waitForRequest((request) => request.path === route && request.durationMs >= 400);
    const copies = discord
      .channelMessages(discord.otherGuildChannel)
      .filter((m) => m.content === 'posted once?');
    expect(copies).toHaveLength(2);
  });

  it('waitForRequest times out with the recent requests listed', async () => {
    await expect(discord.waitForRequest(() => false, { timeoutMs: 30, what: 'nothing' })).rejects.toThrow(
      /timed out after 30 ms waiting for nothing[\s\S]*last \d+ of \d+ requests/,
    );
  });

  it('survives op 7 reconnect (RESUME) and serves a restarted bot on the same fake', async () => {
    const resumed = discord.nextReady();
    discord.requestReconnect();
    await resumed;
    const afterResume = onNextInteraction(client, async (interaction) => interaction.isChatInputCommand());
    discord.slashCommand({ name: 'video' });
    expect(await afterResume).toBe(true);

    await client.destroy();
    const restarted = discord.nextReady();
    client = makeClient(discord, [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    await login(client, discord);
    expect((await restarted).intents).toBe(Intent.Guilds | Intent.GuildMessages);
    expect(discord.identifies).toHaveLength(2);

    // Without MessageContent, content and attachments arrive blank unless the message mentions the bot.
    const blank = onNextMessage(client, (message) => message.author.id === discord.defaultMember.user.id);
    discord.sendMessage({ content: 'secret', attachments: [{ filename: 'a.png', bytes: PNG }] });
    const blanked = await blank;
    expect([blanked.content, blanked.attachments.size]).toEqual(['', 0]);
    const mention = onNextMessage(client, (message) => message.content.includes('hello'));
    discord.sendMessage({ content: 'hello', mentionsBot: true });
    expect((await mention).mentions.users.has(discord.botUser.id)).toBe(true);

    const handled = onNextInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.reply('still here');
    });
    const ix = discord.slashCommand({ name: 'video' });
    await handled;
    expect(discord.originalResponse(ix)?.content).toBe('still here');
  });
});

/** A gateway dispatch as `Events.Raw` hands it over. */
interface RawPacket {
  t: string;
  d: { id?: string; guild_id?: string; shard?: unknown } | null;
}

/** A client of one shard, recording the raw dispatches it receives. */
function makeShardClient(
  discord: FakeDiscord,
  shard: number,
  shardCount: number,
): { client: Client; raw: RawPacket[] } {
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    partials: [Partials.Channel],
    shards: [shard],
    shardCount,
    rest: { api: discord.apiUrl, timeout: 10_000 },
  });
  const raw: RawPacket[] = [];
  client.on(Events.Raw, (packet: RawPacket) => raw.push(packet));
  return { client, raw };
}

/** Logs in expecting discord.js to give up on a shard: its close code and what `login` rejected with. */
async function refusedLogin(
  client: Client,
  discord: FakeDiscord,
): Promise<{ code: number; shardId: number; loginError: string }> {
  const disconnected = new Promise<{ code: number; shardId: number }>((resolve) =>
    client.once(Events.ShardDisconnect, (event, shardId) => resolve({ code: event.code, shardId })),
  );
  const loginError = await client.login(discord.botToken).then(
    () => 'login resolved',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  return { ...(await disconnected), loginError };
}

describe('shards', () => {
  let discord: FakeDiscord;
  let shard0: ReturnType<typeof makeShardClient>;
  let shard1: ReturnType<typeof makeShardClient>;
  let guild1: FakeGuild;

  beforeAll(async () => {
    discord = await startFakeDiscord({ shardCount: 2 });
    guild1 = discord.guildOnShard(1, { name: 'Shard One' });
    shard0 = makeShardClient(discord, 0, 2);
    shard1 = makeShardClient(discord, 1, 2);
    await Promise.all([login(shard0.client, discord), login(shard1.client, discord)]);
    await discord.allShardsReady();
  });

  afterAll(async () => {
    await shard0?.client.destroy();
    await shard1?.client.destroy();
    await discord?.close();
  });

  it('two clients, one per shard, reach ready; READY lists only the guilds of that shard', async () => {
    expect(discord.shardOf(discord.guild)).toBe(0);
    expect([
      discord.shardOf(discord.otherGuild),
      discord.shardOf(guild1),
      discord.shardOf(undefined),
    ]).toEqual([1, 1, 0]);
    expect(discord.connectedShards).toEqual([0, 1]);
    expect(discord.identifies.map((identify) => identify.shard).sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect((await discord.ready({ shard: 1 })).shardId).toBe(1);
    expect(discord.requests.find((request) => request.path === '/gateway/bot')?.response).toMatchObject({
      shards: 2,
    });

    expect(shard0.raw.find((packet) => packet.t === 'READY')?.d?.shard).toEqual([0, 2]);
    expect(shard1.raw.find((packet) => packet.t === 'READY')?.d?.shard).toEqual([1, 2]);
    expect(shard0.client.guilds.cache.map((guild) => guild.id)).toEqual([discord.guild.id]);
    expect(shard1.client.guilds.cache.map((guild) => guild.id).sort()).toEqual(
      [discord.otherGuild.id, guild1.id].sort(),
    );
    expect(shard1.client.guilds.cache.get(guild1.id)?.shardId).toBe(1);
  });

  it('a slash command in a guild of shard 1 reaches only the client of shard 1', async () => {
    let onShard0 = false;
    shard0.client.once(Events.InteractionCreate, () => {
      onShard0 = true;
    });
    const handled = onNextInteraction(shard1.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.reply('from shard 1');
      return interaction.guildId;
    });
    const ix = discord.slashCommand({ name: 'video', channel: guild1.channels[0] });
    expect(await handled).toBe(guild1.id);
    expect(discord.originalResponse(ix)?.content).toBe('from shard 1');

    const routed = discord.dispatches.findLast((record) => record.event === 'INTERACTION_CREATE');
    const session1 = discord.identifies.find((identify) => identify.shardId === 1)?.sessionId;
    expect(routed).toMatchObject({ guildId: guild1.id, shardId: 1, sessionIds: [session1] });
    expect(onShard0).toBe(false);
    expect(shard0.raw.some((packet) => packet.t === 'INTERACTION_CREATE')).toBe(false);
  });

  it('a message in a guild of shard 0 reaches only the client of shard 0', async () => {
    const received = onNextMessage(shard0.client, (message) => message.content === 'for shard 0');
    const sent = discord.sendMessage({ content: 'for shard 0' });
    expect((await received).id).toBe(sent.id);
    expect(shard0.raw.some((packet) => packet.t === 'MESSAGE_CREATE' && packet.d?.id === sent.id)).toBe(true);
    expect(shard1.raw.some((packet) => packet.t === 'MESSAGE_CREATE' && packet.d?.id === sent.id)).toBe(
      false,
    );
    expect(discord.dispatches.findLast((record) => record.event === 'MESSAGE_CREATE')?.shardId).toBe(0);
  });

  it('DMs (a message and a slash command) reach shard 0', async () => {
    const dmMessage = onNextMessage(shard0.client, (message) => message.content === 'psst');
    const sent = discord.sendMessage({ content: 'psst', dm: true });
    expect((await dmMessage).channel.isDMBased()).toBe(true);

    const dmCommand = onNextInteraction(shard0.client, async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a slash command');
      await interaction.reply('dm ok');
      return interaction.guildId;
    });
    const ix = discord.slashCommand({ name: 'video', guild: false });
    expect(await dmCommand).toBeNull();
    expect(discord.originalResponse(ix)?.content).toBe('dm ok');
    const onShard1 = shard1.raw.filter((packet) => packet.d?.id === sent.id || packet.d?.id === ix.id);
    expect(onShard1).toEqual([]);
  });

  it('a guild added later is announced (GUILD_CREATE) only to its shard', async () => {
    const joined = new Promise<string>((resolve) =>
      shard0.client.once(Events.GuildCreate, (guild) => resolve(guild.id)),
    );
    const late = discord.guildOnShard(0, { name: 'Late Guild' });
    expect(await joined).toBe(late.id);
    expect(shard1.client.guilds.cache.has(late.id)).toBe(false);
    expect(() => discord.guildOnShard(2)).toThrow(/no shard 2/);
  });

  it('op 7 to one shard: only that shard resumes, and what it missed is replayed', async () => {
    const identifies = discord.identifies.length;
    const resumed = discord.nextReady({ shard: 1 });
    discord.disconnectAll(4000, { shard: 1 });
    const replayed = onNextMessage(shard1.client, (message) => message.content === 'while away');
    discord.sendMessage({ content: 'while away', channel: guild1.channels[0] });
    expect((await resumed).shardId).toBe(1);
    expect((await replayed).guildId).toBe(guild1.id);
    expect(discord.identifies).toHaveLength(identifies);

    const again = discord.nextReady({ shard: 1 });
    discord.requestReconnect({ shard: 1 });
    await again;
    expect(shard0.raw.filter((packet) => packet.t === 'RESUMED')).toEqual([]);
    expect(discord.connectedShards).toEqual([0, 1]);
  });

  it('an interaction for a shard nobody serves is refused by the fake, not lost', async () => {
    await shard1.client.destroy();
    await expect.poll(() => discord.connectedShards).toEqual([0]);
    expect(() => discord.slashCommand({ name: 'video', channel: guild1.channels[0] })).toThrow(
      /no gateway client of shard 1 is connected/,
    );
    const back = discord.nextReady({ shard: 1 });
    shard1 = makeShardClient(discord, 1, 2);
    await login(shard1.client, discord);
    expect((await back).shardId).toBe(1);
    expect(discord.connectedShards).toEqual([0, 1]);
  });

  it('a client with the wrong shard count is closed with 4010 Invalid shard', async () => {
    const { client } = makeShardClient(discord, 0, 3);
    try {
      expect(await refusedLogin(client, discord)).toEqual({
        code: 4010,
        shardId: 0,
        loginError: 'Invalid shard',
      });
      expect(discord.refusedIdentifies.at(-1)).toMatchObject({ shard: [0, 3], code: 4010 });
    } finally {
      await client.destroy();
    }
    const outOfRange = makeShardClient(discord, 2, 2).client;
    try {
      expect((await refusedLogin(outOfRange, discord)).code).toBe(4010);
      expect(discord.refusedIdentifies.at(-1)).toMatchObject({ shard: [2, 2], code: 4010 });
    } finally {
      await outOfRange.destroy();
    }
    expect(discord.connectedShards).toEqual([0, 1]);
  });

  it('an unsharded client of a bot that must shard is closed with 4011 Sharding required', async () => {
    // No `shards` option: discord.js identifies as shard [0, 1].
    const client = makeClient(discord, [GatewayIntentBits.Guilds]);
    try {
      expect(await refusedLogin(client, discord)).toEqual({
        code: 4011,
        shardId: 0,
        loginError: 'Sharding is required',
      });
      expect(discord.refusedIdentifies.at(-1)).toMatchObject({ shard: [0, 1], code: 4011 });
      expect(discord.connectedShards).toEqual([0, 1]);
    } finally {
      await client.destroy();
    }
  });
});

describe('shards: one client with shards "auto"', () => {
  it('follows GET /gateway/bot and connects every shard itself', async () => {
    const discord = await startFakeDiscord({ shardCount: 2, maxConcurrency: 2 });
    const client = new Client({
      intents: [GatewayIntentBits.Guilds],
      shards: 'auto',
      rest: { api: discord.apiUrl },
    });
    try {
      await login(client, discord);
      const ready = await discord.allShardsReady();
      expect(ready.map((identify) => identify.shard)).toEqual([
        [0, 2],
        [1, 2],
      ]);
      expect(client.guilds.cache.get(discord.otherGuild.id)?.shardId).toBe(1);
      expect(client.guilds.cache.get(discord.guild.id)?.shardId).toBe(0);
    } finally {
      await client.destroy();
      await discord.close();
    }
  });
});
