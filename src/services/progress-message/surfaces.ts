import type { JobSurface, SurfaceLocation } from '../jobs/job-ports.ts';
import type { Logger } from '../logging/logger.ts';
import { ChannelMessageSurface } from './channel-message-surface.ts';
import type { DiscordMessages } from './discord-messages.ts';
import { InteractionReplySurface } from './interaction-reply-surface.ts';
import type { MessageStyle } from './job-message.ts';

export interface SurfaceDeps {
  messages: DiscordMessages;
  logger: Logger;
  /** How job messages look (`MESSAGE_STYLE`; cards when not said). */
  style?: MessageStyle;
}

/**
 * The surface for a location: a live job's, or one read back from the store after a restart. A
 * surface behind an interaction token moves to a new channel message, pinging the requester with
 * the result, once the token can no longer be used; a job of a member's own install where the bot
 * is not moves to the member's DMs instead.
 */
export function surfaceAt(
  location: SurfaceLocation,
  deps: SurfaceDeps,
  options: { replyTo?: string } = {},
): JobSurface {
  const { messages, logger, style } = deps;
  if (location.kind === 'channel') {
    return new ChannelMessageSurface({ messages, logger, style, ...location, replyTo: options.replyTo });
  }
  const { channelId, uploadLimitBytes, directMessageTo } = location;
  return new InteractionReplySurface({
    messages,
    logger,
    style,
    ...location,
    openFallback: directMessageTo
      ? async () =>
          new ChannelMessageSurface({
            messages,
            logger,
            style,
            channelId: await messages.openDirectMessage(directMessageTo),
            uploadLimitBytes,
          })
      : () =>
          new ChannelMessageSurface({
            messages,
            logger,
            style,
            channelId,
            uploadLimitBytes,
            pingOnFinish: true,
            inServerLanguage: true,
          }),
  });
}
