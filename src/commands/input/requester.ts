import {
  type BaseInteraction,
  InteractionContextType,
  type Message,
  type TextBasedChannel,
} from 'discord.js';
import type { Requester } from '../../services/quotas/requester.ts';

/**
 * Who is asking, as quotas see them. Role ids include the server's @everyone role (its id is the
 * server's), as Discord treats it as a role every member has.
 */
type InteractionPlace = Pick<BaseInteraction, 'authorizingIntegrationOwners' | 'context'>;

/**
 * Only the member's own install authorises this interaction, somewhere the bot is not: a server
 * that never installed it, or a DM between members. The bot can only answer it (no channel
 * messages, no reading the server); its jobs are the member's, never that server's.
 */
export function isOwnInstallOnly(interaction: InteractionPlace): boolean {
  const owners = interaction.authorizingIntegrationOwners;
  return !owners?.guildId && Boolean(owners?.userId) && interaction.context !== InteractionContextType.BotDM;
}

export function requesterOf(
  interaction: Pick<BaseInteraction, 'guildId' | 'user' | 'member'> & InteractionPlace,
): Requester {
  const { guildId, user, member } = interaction;
  // A member's own install counts against their own allowance, not the server's they are in.
  if (!guildId || !member || isOwnInstallOnly(interaction))
    return { guildId: null, userId: user.id, roleIds: [] };
  // A member from a cached server has a role manager; an uncached one arrives as the raw payload's id list.
  const roleIds = Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  return { guildId, userId: user.id, roleIds: withEveryone(roleIds, guildId) };
}

export function requesterOfMessage(message: Message): Requester {
  if (!message.guildId) return { guildId: null, userId: message.author.id, roleIds: [] };
  const roleIds = message.member ? [...message.member.roles.cache.keys()] : [];
  return {
    guildId: message.guildId,
    userId: message.author.id,
    roleIds: withEveryone(roleIds, message.guildId),
  };
}

function withEveryone(roleIds: readonly string[], guildId: string): string[] {
  return [...new Set([...roleIds, guildId])];
}

/** For a request made in a thread: the channel it belongs to, for the server's channel rules. */
export function threadParentOf(
  channel: { isThread(): boolean; parentId?: string | null } | null,
): string | undefined {
  return channel?.isThread() ? (channel.parentId ?? undefined) : undefined;
}

type ChannelFacts = Pick<TextBasedChannel, 'isThread'> & { nsfw?: boolean; parent?: object | null };

/**
 * Whether a request's channel is age-restricted (Discord's `nsfw` flag); a thread follows the
 * channel it belongs to. Undefined when the bot does not know the channel (not in its cache).
 */
export function channelAgeRestrictedOf(channel: ChannelFacts | null | undefined): boolean | undefined {
  if (!channel) return undefined;
  const own = channel.isThread() ? channel.parent : channel;
  if (!own) return undefined;
  return 'nsfw' in own && own.nsfw === true;
}
