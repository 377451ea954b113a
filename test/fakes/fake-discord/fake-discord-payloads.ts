import {
  type APIApplication,
  type APIAttachment,
  type APIDMChannel,
  type APIGuildMember,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIPublicThreadChannel,
  type APIRole,
  type APITextChannel,
  type APIUser,
  ApplicationFlags,
  ApplicationWebhookEventStatus,
  ChannelType,
  type GatewayGuildCreateDispatchData,
  GatewayIntentBits,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  type GuildMemberFlags,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  MessageType,
  PermissionFlagsBits,
  type RoleFlags,
  type ThreadAutoArchiveDuration,
} from 'discord-api-types/v10';
import { snowflake } from './snowflake.ts';

/**
 * Typed builders for the objects the fake Discord serves. Everything is typed with discord-api-types,
 * so a field that becomes required in an upgrade fails `tsc` here instead of crashing discord.js.
 */

export const MiB = 1024 * 1024;
export const DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * MiB;

export const Intent = {
  Guilds: GatewayIntentBits.Guilds,
  GuildMessages: GatewayIntentBits.GuildMessages,
  DirectMessages: GatewayIntentBits.DirectMessages,
  MessageContent: GatewayIntentBits.MessageContent,
} as const;

export const MessageFlag = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsComponentsV2: 1 << 15,
} as const;

const P = PermissionFlagsBits;

/** What @everyone may do in the fake guild: a normal member, without ManageGuild. */
export const DEFAULT_MEMBER_PERMISSIONS: bigint =
  P.ViewChannel |
  P.SendMessages |
  P.SendMessagesInThreads |
  P.CreatePublicThreads |
  P.ReadMessageHistory |
  P.AttachFiles |
  P.EmbedLinks |
  P.AddReactions |
  P.UseExternalEmojis |
  P.UseApplicationCommands |
  P.ChangeNickname |
  P.Connect |
  P.Speak;

/** What the bot may do in each channel unless a test changes it (`app_permissions`). */
export const DEFAULT_APP_PERMISSIONS: bigint = DEFAULT_MEMBER_PERMISSIONS | P.ManageMessages;

export type PermissionsInput = bigint | string | number;

export function permissionString(value: PermissionsInput): string {
  return BigInt(value).toString();
}

export function hasPermission(permissions: PermissionsInput, flag: bigint): boolean {
  const bits = BigInt(permissions);
  return (bits & P.Administrator) !== 0n || (bits & flag) === flag;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function makeUser(options: { id?: string; username?: string; bot?: boolean } = {}): APIUser {
  const id = options.id ?? snowflake();
  const username = options.username ?? `user${id.slice(-5)}`;
  return {
    id,
    username,
    discriminator: '0',
    global_name: options.bot ? null : username,
    avatar: null,
    ...(options.bot ? { bot: true } : {}),
  };
}

/** A member of the fake guild, as tests hand it around. `permissions` is the member's total in the channel. */
export interface FakeMember {
  user: APIUser;
  guildId: string;
  roles: string[];
  permissions: string;
  nick: string | null;
  joinedAt: string;
}

export function guildMemberPayload(member: FakeMember): APIGuildMember {
  return {
    user: member.user,
    nick: member.nick,
    avatar: null,
    banner: null,
    roles: member.roles,
    joined_at: member.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

export function interactionMemberPayload(member: FakeMember): APIInteractionGuildMember {
  return { ...guildMemberPayload(member), user: member.user, permissions: member.permissions };
}

/** MESSAGE_CREATE carries the author's member object without its `user`. */
export function messageMemberPayload(member: FakeMember): Omit<APIGuildMember, 'user'> {
  const { user: _user, ...rest } = guildMemberPayload(member);
  return rest;
}

export function makeRole(options: {
  id?: string;
  name: string;
  permissions?: PermissionsInput;
  position?: number;
  managed?: boolean;
  botId?: string;
}): APIRole {
  return {
    id: options.id ?? snowflake(),
    name: options.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: options.position ?? 1,
    permissions: permissionString(options.permissions ?? 0n),
    managed: options.managed ?? false,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...(options.botId ? { tags: { bot_id: options.botId } } : {}),
  };
}

export function makeTextChannel(guildId: string, name: string, position: number): APITextChannel {
  return {
    id: snowflake(),
    type: ChannelType.GuildText,
    guild_id: guildId,
    name,
    position,
    permission_overwrites: [],
    parent_id: null,
    nsfw: false,
    topic: null,
    last_message_id: null,
    last_pin_timestamp: null,
    rate_limit_per_user: 0,
  };
}

/** A public thread under a text channel; its age restriction is its parent's (Discord's rule). */
export function makeThreadChannel(
  parent: APITextChannel,
  name: string,
  ownerId: string,
): APIPublicThreadChannel {
  return {
    id: snowflake(),
    type: ChannelType.PublicThread,
    guild_id: parent.guild_id as string,
    name,
    parent_id: parent.id,
    owner_id: ownerId,
    last_message_id: null,
    rate_limit_per_user: 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    applied_tags: [],
    thread_metadata: {
      archived: false,
      auto_archive_duration: 1440 as ThreadAutoArchiveDuration,
      archive_timestamp: new Date().toISOString(),
      locked: false,
    },
  } as APIPublicThreadChannel;
}

export function makeDMChannel(recipient: APIUser): APIDMChannel {
  return {
    id: snowflake(),
    type: ChannelType.DM,
    name: null,
    recipients: [recipient],
    last_message_id: null,
  };
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  roles: APIRole[];
  channels: APITextChannel[];
  /** Threads under its channels (`discord.addThread`). */
  threads?: APIPublicThreadChannel[];
  members: Map<string, FakeMember>;
  joinedAt: string;
  /** The server's language in Discord (`preferred_locale`, and `guild_locale` of its interactions); default en-US. */
  preferredLocale?: Locale;
}

/** GUILD_CREATE as a bot without the GuildMembers intent gets it: only its own member is included. */
export function guildCreatePayload(guild: FakeGuild, botUserId: string): GatewayGuildCreateDispatchData {
  const members = [...guild.members.values()]
    .filter((member) => member.user.id === botUserId)
    .map(guildMemberPayload);
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    region: 'us-west',
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    roles: guild.roles,
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotifications,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: guild.preferredLocale ?? Locale.EnglishUS,
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: GuildNSFWLevel.Default,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.members.size,
    voice_states: [],
    members,
    channels: guild.channels,
    threads: guild.threads ?? [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function applicationPayload(id: string, bot: APIUser): APIApplication {
  return {
    id,
    name: bot.username,
    icon: null,
    description: 'Fake application served by test/support/fake-discord.ts',
    bot_public: false,
    bot_require_code_grant: false,
    bot,
    summary: '',
    verify_key: '0'.repeat(64),
    team: null,
    flags: ApplicationFlags.GatewayMessageContentLimited,
    flags_new: String(ApplicationFlags.GatewayMessageContentLimited),
    approximate_guild_count: 1,
    redirect_uris: [],
    interactions_endpoint_url: null,
    role_connections_verification_url: null,
    event_webhooks_url: null,
    event_webhooks_status: ApplicationWebhookEventStatus.Disabled,
  };
}

export interface AttachmentInput {
  filename: string;
  contentType?: string;
  bytes?: Buffer | Uint8Array | string;
  /** Size in bytes when no `bytes` are given; the CDN then serves that many zero bytes. */
  size?: number;
  description?: string;
}

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
};

/** Discord names the type from the file name when the upload says nothing useful. */
export function contentTypeFor(filename: string, declared?: string): string {
  if (declared && declared !== 'application/octet-stream') return declared;
  const extension = filename.split('.').pop()?.toLowerCase() ?? '';
  return EXTENSION_TYPES[extension] ?? declared ?? 'application/octet-stream';
}

export function attachmentPayload(options: {
  id: string;
  cdnBase: string;
  channelId: string;
  filename: string;
  size: number;
  contentType: string;
  description?: string;
  ephemeral?: boolean;
}): APIAttachment {
  const path = `/attachments/${options.channelId}/${options.id}/${encodeURIComponent(options.filename)}`;
  const expires = Math.floor(Date.now() / 1000 + 86_400).toString(16);
  const query = `?ex=${expires}&is=${expires}&hm=${'0'.repeat(16)}&`;
  return {
    id: options.id,
    filename: options.filename,
    size: options.size,
    url: `${options.cdnBase}${path}${query}`,
    proxy_url: `${options.cdnBase}/media${path}${query}`,
    content_type: options.contentType,
    ...(options.description ? { description: options.description } : {}),
    ...(options.ephemeral ? { ephemeral: true } : {}),
  };
}

/** A complete Message object: discord.js builds its Message from exactly these fields. */
export function baseMessage(options: {
  id?: string;
  channelId: string;
  author: APIUser;
  content?: string;
  at: number;
  type?: MessageType;
  flags?: number;
}): APIMessage {
  return {
    id: options.id ?? snowflake(options.at),
    channel_id: options.channelId,
    author: options.author,
    content: options.content ?? '',
    timestamp: isoTime(options.at),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    type: options.type ?? MessageType.Default,
    flags: options.flags ?? 0,
  };
}
