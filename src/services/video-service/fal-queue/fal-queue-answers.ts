import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { isRecord, stringOf } from '../json-api-client.ts';
import { saysContentPolicy } from '../polled-job/content-policy.ts';
import {
  cleanServiceMessage,
  GENERIC_FAILURE_REASON,
  memberSafeReason,
} from '../relay/relay-service-text.ts';
import { CONTENT_POLICY_REASON } from '../service-call-errors.ts';
import { serviceMessageOf } from '../service-error-text.ts';

/**
 * fal's queue answers, read into what the bot needs. Status words: `IN_QUEUE` (with
 * `queue_position`), `IN_PROGRESS`, `COMPLETED`; some apps also report `FAILED` / `CANCELED`, and
 * a COMPLETED status may carry the request's `error`. A failed request's result answers 4xx/5xx
 * with `detail`: a string, or a list of `{loc, msg, type}` where `type: content_policy_violation`
 * marks a content refusal.
 */

export type FalStatus =
  | { state: 'queued'; position?: number }
  | { state: 'running' }
  /** Finished one way or the other: the result says which (unless `failure` already does). */
  | { state: 'finished'; failure?: FalFailure }
  | { state: 'cancelled' }
  /** A word this bot does not know: polling goes on, the deadline bounds it. */
  | { state: 'unknown'; word: string };

/** Why a request failed, in fal's words (redacted by the caller) and whether it was a content refusal. */
export interface FalFailure {
  said?: string;
  contentPolicy: boolean;
}

const CONTENT_POLICY_TYPE = 'content_policy_violation';
/** At most this many of a `detail` list's messages make up the reason. */
const MAX_DETAIL_MESSAGES = 3;

export function requestIdOf(document: unknown): string | undefined {
  return isRecord(document) ? stringOf(document.request_id) : undefined;
}

/** `queue_position` of a status (or of a submit's answer), when fal gave a usable one. */
export function queuePositionOf(document: unknown): number | undefined {
  const position = isRecord(document) ? document.queue_position : undefined;
  return typeof position === 'number' && Number.isInteger(position) && position >= 0 ? position : undefined;
}

export function statusOf(document: unknown): FalStatus | undefined {
  if (!isRecord(document)) return undefined;
  const word = stringOf(document.status)?.trim().toUpperCase();
  if (!word) return undefined;
  switch (word) {
    case 'IN_QUEUE': {
      const position = queuePositionOf(document);
      return position === undefined ? { state: 'queued' } : { state: 'queued', position };
    }
    case 'IN_PROGRESS':
      return { state: 'running' };
    case 'COMPLETED':
    case 'FAILED': {
      const error = stringOf(document.error);
      if (!error) return { state: 'finished' };
      const type = stringOf(document.error_type);
      return {
        state: 'finished',
        failure: { said: error, contentPolicy: type === CONTENT_POLICY_TYPE || saysContentPolicy(error) },
      };
    }
    case 'CANCELED':
    case 'CANCELLED':
      return { state: 'cancelled' };
    default:
      return { state: 'unknown', word };
  }
}

/** The video's link in a result: `video.url` (every fal video model), or `videos[0].url`. */
export function videoUrlOf(document: unknown): string | undefined {
  if (!isRecord(document)) return undefined;
  const video = isRecord(document.video)
    ? document.video
    : Array.isArray(document.videos) && isRecord(document.videos[0])
      ? document.videos[0]
      : undefined;
  const url = stringOf(video?.url);
  return url && /^https?:\/\//i.test(url) ? url : undefined;
}

/** fal's `detail` (string or list), or any other wording of an error body. */
export function failureOf(document: unknown, text: string): FalFailure {
  const detail = isRecord(document) ? document.detail : undefined;
  if (Array.isArray(detail)) {
    const items = detail.filter(isRecord);
    const said = items
      .map((item) => stringOf(item.msg))
      .filter((message): message is string => message !== undefined)
      .slice(0, MAX_DETAIL_MESSAGES)
      .join('; ');
    const contentPolicy = items.some((item) => item.type === CONTENT_POLICY_TYPE) || saysContentPolicy(said);
    return { said: said ? cleanServiceMessage(said) : undefined, contentPolicy };
  }
  const said = serviceMessageOf(text);
  return { said, contentPolicy: saysContentPolicy(said) };
}

/** What a member reads for a failed request. */
export function failureReason(failure: FalFailure): string | MemberText {
  if (failure.contentPolicy) return CONTENT_POLICY_REASON;
  return failure.said ? memberSafeReason(failure.said) : GENERIC_FAILURE_REASON;
}

export const CANCELLED_REASON = memberText('failure.service.cancelled');
export const NO_VIDEO_REASON = memberText('failure.noVideo');
