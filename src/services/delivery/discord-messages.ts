import {
  type APIAllowedMentions,
  type APIMessage,
  type APIMessageReference,
  DiscordAPIError,
  HTTPError,
  type REST,
  Routes,
} from 'discord.js';
import type { DownloadedVideo } from '../jobs/job.ts';
import type { JobMessage } from './job-message.ts';

export interface OutgoingMessage extends JobMessage {
  allowed_mentions: APIAllowedMentions;
  message_reference?: APIMessageReference;
}

/** Nothing the bot posts may ping anyone, whatever a prompt contains. */
export const NO_PINGS: APIAllowedMentions = { parse: [], replied_user: false };

/**
 * The few Discord REST calls a job message needs, by id and token only, so a job can be picked up
 * again after a restart without any cached discord.js objects. Files go through a separate REST
 * instance with a long timeout and no automatic retry, so a slow upload is never posted twice.
 */
export class DiscordMessages {
  constructor(
    private readonly rest: REST,
    private readonly uploads: REST,
  ) {}

  editInteractionReply(
    applicationId: string,
    token: string,
    message: OutgoingMessage,
    video?: DownloadedVideo,
  ): Promise<APIMessage> {
    const route = Routes.webhookMessage(applicationId, token, '@original');
    return this.write('patch', route, message, video, false);
  }

  send(channelId: string, message: OutgoingMessage, video?: DownloadedVideo): Promise<APIMessage> {
    return this.write('post', Routes.channelMessages(channelId), message, video, true);
  }

  edit(
    channelId: string,
    messageId: string,
    message: OutgoingMessage,
    video?: DownloadedVideo,
  ): Promise<APIMessage> {
    return this.write('patch', Routes.channelMessage(channelId, messageId), message, video, true);
  }

  private async write(
    method: 'post' | 'patch',
    route: `/${string}`,
    message: OutgoingMessage,
    video: DownloadedVideo | undefined,
    auth: boolean,
  ): Promise<APIMessage> {
    if (!video) return (await this.rest[method](route, { body: message, auth })) as APIMessage;
    const body = { ...message, attachments: [{ id: '0', filename: video.fileName }] };
    const files = [{ name: video.fileName, data: video.bytes, contentType: video.contentType }];
    return (await this.uploads[method](route, { body, files, auth })) as APIMessage;
  }
}

export function discordErrorCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
}

function discordStatus(error: unknown): number | undefined {
  return error instanceof DiscordAPIError || error instanceof HTTPError ? error.status : undefined;
}

export function isUploadTooLarge(error: unknown): boolean {
  return discordStatus(error) === 413 || discordErrorCode(error) === 40005;
}

/** The interaction token stopped working (expired, or Discord dropped it early). */
export function isDeadToken(error: unknown): boolean {
  const code = discordErrorCode(error);
  return code === 50027 || code === 10015 || (discordStatus(error) === 401 && code === undefined);
}

export function isUnknownMessage(error: unknown): boolean {
  return discordErrorCode(error) === 10008;
}

export function isMissingPermission(error: unknown): boolean {
  const code = discordErrorCode(error);
  return code === 50013 || code === 50001;
}
