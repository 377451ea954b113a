import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { isRecord, stringOf } from '../json-api-client.ts';
import { saysContentPolicy } from '../polled-job/content-policy.ts';
import { GENERIC_FAILURE_REASON, memberSafeReason } from '../relay/relay-service-text.ts';
import { CONTENT_POLICY_REASON } from '../service-call-errors.ts';

/**
 * A Replicate prediction (`POST …/predictions`, `GET /predictions/{id}`), read into what the bot
 * needs. Status words: `starting`, `processing`, `succeeded`, `failed`, `canceled` (and
 * `aborted`, a prediction stopped before it ran). `output` is a URL or a list of URLs (some
 * models: an object of them); they are deleted after an hour, so the runner fetches at once.
 */

export type PredictionState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'unknown';

export interface Prediction {
  id: string;
  state: PredictionState;
  /** The status word as sent, for logs. */
  word: string;
  /** Public links in `output`, the likeliest video first. */
  urls: string[];
  /** `error`, as Replicate (or the model) said it. */
  error?: string;
}

const STATES: Record<string, PredictionState> = {
  starting: 'queued',
  processing: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'cancelled',
  cancelled: 'cancelled',
  aborted: 'cancelled',
};
const PREDICTION_ID = /^[\w-]+$/;
const VIDEO_FILE = /\.(mp4|mov|webm)(?:$|\?)/i;

export function predictionOf(document: unknown): Prediction | undefined {
  if (!isRecord(document)) return undefined;
  const id = stringOf(document.id);
  const word = stringOf(document.status)?.trim().toLowerCase();
  if (!id || !PREDICTION_ID.test(id) || !word) return undefined;
  const error =
    stringOf(document.error) ?? (isRecord(document.error) ? stringOf(document.error.message) : undefined);
  return { id, state: STATES[word] ?? 'unknown', word, urls: linksIn(document.output), error };
}

export function isPredictionId(id: string): boolean {
  return PREDICTION_ID.test(id);
}

/** What a member reads for a failed prediction: content refusals in the bot's words, else Replicate's. */
export function failureReason(error: string | undefined): string | MemberText {
  if (saysContentPolicy(error)) return CONTENT_POLICY_REASON;
  return error ? memberSafeReason(error) : GENERIC_FAILURE_REASON;
}

export const CANCELLED_REASON = memberText('failure.service.cancelled');
export const NO_VIDEO_REASON = memberText('failure.noVideo');

function linksIn(output: unknown): string[] {
  const values = Array.isArray(output) ? output : isRecord(output) ? Object.values(output) : [output];
  const links = values.filter(
    (value): value is string => typeof value === 'string' && /^https?:\/\//i.test(value),
  );
  const videosFirst = [...links.filter((link) => VIDEO_FILE.test(link)), ...links];
  return [...new Set(videosFirst)];
}
