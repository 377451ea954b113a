import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { memberSafeReason } from '../relay/relay-service-text.ts';

/**
 * The job object of the Videos API (`POST /videos`, `GET /videos/{id}`), reduced to one shape
 * whatever relay answered: status words, timestamps, progress and result links all drift between
 * the relays that copy OpenAI's shape (new-api, gptproto, LiteLLM, OpenRouter's cousin).
 */

export type VideoJobStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'expired';

export interface VideoJob {
  id: string;
  status: VideoJobStatus;
  /** The relay's own status word, for logs when it was an alias or unknown. */
  rawStatus: string;
  /** 0–100, absent when the relay gives none (OpenRouter never does). */
  progress?: number;
  createdAtMs?: number;
  completedAtMs?: number;
  /** When the downloadable files go away. */
  expiresAtMs?: number;
  model?: string;
  seconds?: string;
  size?: string;
  remixedFromVideoId?: string;
  /** Links a member can open, best first; never the key-protected `/content` URL. */
  publicUrls: string[];
  /** OpenRouter's `unsigned_urls`: its content proxy, which needs the key (never shown). */
  keyedUrls?: string[];
  /** OpenRouter's `usage.cost` once done: what the job cost. */
  cost?: number;
  /** Present for failed, cancelled and expired jobs; `reason` is fit to show a member. */
  failure?: { code?: string; reason: string | MemberText };
}

export type ParsedVideoJob = { ok: true; job: VideoJob } | { ok: false; problem: string };

const STATUS_ALIASES: Record<string, VideoJobStatus> = {
  queued: 'queued',
  pending: 'queued',
  submitted: 'queued',
  not_start: 'queued',
  in_progress: 'in_progress',
  processing: 'in_progress',
  running: 'in_progress',
  completed: 'completed',
  succeeded: 'completed',
  success: 'completed',
  failed: 'failed',
  failure: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  expired: 'expired',
};

/** The bot's own words for a job that ended without the service saying why. */
const TERMINAL_REASONS = {
  failed: memberText('failure.service.couldNotMake'),
  moderation: memberText('failure.service.moderated'),
  cancelled: memberText('failure.service.cancelled'),
  expired: memberText('failure.service.expired'),
} as const;

const LINK_FIELDS = ['soraVideoUrl', 'video_url', 'output_url', 'url'] as const;
const CONTENT_PATH = /\/videos\/[^/]+\/content\/?$/;
/** Below this a timestamp is taken as seconds: 1e11 s is the year 5138, 1e11 ms is 1973. */
const SECONDS_BELOW = 1e11;
/** Above this it is taken as microseconds. */
const MICROSECONDS_ABOVE = 1e14;

export function parseVideoJob(document: unknown): ParsedVideoJob {
  if (!isRecord(document)) return { ok: false, problem: 'the reply is not a JSON object' };
  const id = stringOf(document.id) ?? stringOf(document.task_id);
  if (!id) return { ok: false, problem: 'the job object has no id' };
  const rawStatus = stringOf(document.status);
  if (!rawStatus) return { ok: false, problem: `job ${id} has no status` };
  const status = statusOf(rawStatus, document.error);
  const job: VideoJob = {
    id,
    status,
    rawStatus,
    progress: progressOf(document.progress),
    createdAtMs: timestampOf(document.created_at),
    completedAtMs: timestampOf(document.completed_at),
    expiresAtMs: timestampOf(document.expires_at),
    model: stringOf(document.model),
    seconds: stringOf(document.seconds) ?? numberText(document.seconds),
    size: stringOf(document.size),
    remixedFromVideoId: stringOf(document.remixed_from_video_id),
    publicUrls: publicUrlsOf(document),
    keyedUrls: keyedUrlsOf(document.unsigned_urls),
    cost: costOf(document.usage),
    failure: failureOf(status, document.error),
  };
  return { ok: true, job: withoutUndefined(job) };
}

export function isTerminal(status: VideoJobStatus): boolean {
  return status !== 'queued' && status !== 'in_progress';
}

/** An unknown word keeps the job running (the caller's deadline bounds it) unless an error came with it. */
function statusOf(raw: string, error: unknown): VideoJobStatus {
  const known =
    STATUS_ALIASES[
      raw
        .trim()
        .toLowerCase()
        .replace(/[\s-]+/g, '_')
    ];
  if (known) return known;
  return error ? 'failed' : 'in_progress';
}

function progressOf(value: unknown): number | undefined {
  const number = typeof value === 'string' ? Number.parseFloat(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) return undefined;
  return Math.min(100, Math.max(0, number));
}

function timestampOf(value: unknown): number | undefined {
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return timestampOf(Number(value));
  }
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  if (value < SECONDS_BELOW) return Math.round(value * 1000);
  if (value > MICROSECONDS_ABOVE) return Math.round(value / 1000);
  return Math.round(value);
}

function publicUrlsOf(document: Record<string, unknown>): string[] {
  const metadata = isRecord(document.metadata) ? document.metadata : {};
  const urls = Array.isArray(document.urls) ? document.urls : [];
  const candidates = [...LINK_FIELDS.map((field) => document[field]), metadata.url, ...urls];
  const links = candidates.filter((candidate): candidate is string => isPublicLink(candidate));
  return [...new Set(links)];
}

function keyedUrlsOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const links = value.filter((link): link is string => typeof link === 'string' && URL.canParse(link));
  return links.length > 0 ? links : undefined;
}

function costOf(usage: unknown): number | undefined {
  const cost = isRecord(usage) ? usage.cost : undefined;
  return typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

function isPublicLink(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'https:' || url.protocol === 'http:') && !CONTENT_PATH.test(url.pathname);
}

function failureOf(status: VideoJobStatus, error: unknown): VideoJob['failure'] {
  if (status === 'cancelled' || status === 'expired') {
    return withoutUndefined({ code: codeOf(error), reason: TERMINAL_REASONS[status] });
  }
  if (status !== 'failed') return undefined;
  const code = codeOf(error);
  const message = typeof error === 'string' ? error : isRecord(error) ? stringOf(error.message) : undefined;
  if (message) return withoutUndefined({ code, reason: memberSafeReason(message) });
  const moderated = code !== undefined && /moderat|policy|safety/i.test(code);
  return withoutUndefined({
    code,
    reason: moderated ? TERMINAL_REASONS.moderation : TERMINAL_REASONS.failed,
  });
}

function codeOf(error: unknown): string | undefined {
  if (!isRecord(error)) return undefined;
  return stringOf(error.code) ?? numberText(error.code);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function numberText(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

/** Keeps the object tidy for `toEqual` and for storing as JSON. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
