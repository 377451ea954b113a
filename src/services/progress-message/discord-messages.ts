import {
  type APIAllowedMentions,
  type APIChannel,
  type APIMessage,
  REST,
  type RESTAPIMessageReference,
  RESTEvents,
  Routes,
} from 'discord.js';
import type { DownloadedVideo } from '../video-service/download/downloaded-video.ts';
import type { JobMessage } from './job-message.ts';

export interface OutgoingMessage extends JobMessage {
  allowed_mentions: APIAllowedMentions;
  message_reference?: RESTAPIMessageReference;
}

/** Nothing the bot posts may ping anyone, whatever a prompt contains. */
export const NO_PINGS: APIAllowedMentions = { parse: [], replied_user: false };

/**
 * The few Discord REST calls a job message needs, by id and token only, so a job can be picked up
 * again after a restart without any cached discord.js objects. Files go through a separate REST
 * instance with a long timeout and no automatic retry, so a slow upload is never posted twice.
 */
export class DiscordMessages {
  /** For interaction webhooks (token in the URL, `auth: false`): see `withoutGlobalLimit`. */
  private readonly interactionRest: REST;
  private readonly interactionUploads: REST;

  constructor(
    private readonly rest: REST,
    private readonly uploads: REST,
  ) {
    this.interactionRest = withoutGlobalLimit(rest);
    this.interactionUploads = withoutGlobalLimit(uploads);
  }

  editInteractionReply(
    applicationId: string,
    token: string,
    message: OutgoingMessage,
    video?: DownloadedVideo,
  ): Promise<APIMessage> {
    const route = Routes.webhookMessage(applicationId, token, '@original');
    return this.write('patch', route, message, video, false);
  }

  /** A new message through the interaction token, for when the reply itself cannot be edited. */
  async followUp(applicationId: string, token: string, message: OutgoingMessage): Promise<APIMessage> {
    const route = Routes.webhook(applicationId, token);
    const query = new URLSearchParams({ wait: 'true' });
    return (await this.interactionRest.post(route, { body: message, query, auth: false })) as APIMessage;
  }

  send(channelId: string, message: OutgoingMessage, video?: DownloadedVideo): Promise<APIMessage> {
    return this.write('post', Routes.channelMessages(channelId), message, video, true);
  }

  /** The bot's DM channel with a user (Discord returns the existing one if there is one). */
  async openDirectMessage(userId: string): Promise<string> {
    const channel = (await this.rest.post(Routes.userChannels(), {
      body: { recipient_id: userId },
    })) as APIChannel;
    return channel.id;
  }

  edit(
    channelId: string,
    messageId: string,
    message: OutgoingMessage,
    video?: DownloadedVideo,
  ): Promise<APIMessage> {
    return this.write('patch', Routes.channelMessage(channelId, messageId), message, video, true);
  }

  async delete(channelId: string, messageId: string): Promise<void> {
    await this.rest.delete(Routes.channelMessage(channelId, messageId));
  }

  private async write(
    method: 'post' | 'patch',
    route: `/${string}`,
    message: OutgoingMessage,
    video: DownloadedVideo | undefined,
    auth: boolean,
  ): Promise<APIMessage> {
    const rest = auth ? this.rest : this.interactionRest;
    if (!video) return (await rest[method](route, { body: message, auth })) as APIMessage;
    const uploads = auth ? this.uploads : this.interactionUploads;
    const body = { ...message, attachments: [{ id: '0', filename: video.fileName }] };
    const files = [{ name: video.fileName, data: video.bytes, contentType: video.contentType }];
    return (await uploads[method](route, { body, files, auth })) as APIMessage;
  }
}

/**
 * A copy of `rest` without @discordjs/rest's own 50 requests/s global limiter. Discord exempts
 * interaction webhooks from its global limit (Discord's rate-limit documentation), but the limiter paces every route of
 * a REST instance but callbacks, so with many jobs the edits and uploads of interaction replies
 * queued behind it (bench/README.md). Per-route buckets and 429 handling stay as they are.
 */
function withoutGlobalLimit(rest: REST): REST {
  const copy = new REST({ ...rest.options, globalRequestsPerSecond: Number.POSITIVE_INFINITY });
  copy.on(RESTEvents.RateLimited, (info) => rest.emit(RESTEvents.RateLimited, info));
  return copy;
}
