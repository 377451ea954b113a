/**
 * A Gemini API long-running operation (`google.longrunning.Operation`) as `predictLongRunning`
 * answers it and `GET {base}/{name}` polls it, reduced to what the bot acts on.
 */

export type GeminiOperation =
  | { name: string; done: false }
  /** `error` is google.rpc.Status: `code` is a gRPC code, `message` Google's words. */
  | { name: string; done: true; outcome: 'error'; code?: number; message?: string }
  /** Google's safety filters withheld the video: not charged, a content-policy refusal. */
  | { name: string; done: true; outcome: 'filtered'; reasons: string[] }
  | { name: string; done: true; outcome: 'video'; uri: string }
  /** Done, but with neither a video nor a reason. */
  | { name: string; done: true; outcome: 'empty' };

export type ParsedOperation = { ok: true; operation: GeminiOperation } | { ok: false; problem: string };

/**
 * An operation name as Google gives it (`models/veo-…/operations/abc123`): path segments of
 * letters, digits and `._-`, so it can be appended to the base URL without leaving it.
 */
const OPERATION_NAME = /^(?:[\w-][\w.-]*\/)*[\w-][\w.-]*$/;

export function isOperationName(name: string): boolean {
  return name.length <= 512 && OPERATION_NAME.test(name) && !name.split('/').includes('..');
}

export function parseOperation(document: unknown): ParsedOperation {
  if (!isRecord(document)) return { ok: false, problem: 'the reply is not a JSON object' };
  const name = typeof document.name === 'string' ? document.name : '';
  if (!isOperationName(name)) return { ok: false, problem: 'the operation has no usable name' };
  if (isRecord(document.error)) {
    const { code, message } = document.error;
    return {
      ok: true,
      operation: {
        name,
        done: true,
        outcome: 'error',
        code: typeof code === 'number' ? code : undefined,
        message: typeof message === 'string' ? message : undefined,
      },
    };
  }
  if (document.done !== true) return { ok: true, operation: { name, done: false } };
  const response = isRecord(document.response) ? document.response : {};
  const result = isRecord(response.generateVideoResponse) ? response.generateVideoResponse : {};
  const uri = firstVideoUri(result.generatedSamples);
  if (uri) return { ok: true, operation: { name, done: true, outcome: 'video', uri } };
  const reasons = Array.isArray(result.raiMediaFilteredReasons)
    ? result.raiMediaFilteredReasons.filter((reason): reason is string => typeof reason === 'string')
    : [];
  const filteredCount = typeof result.raiMediaFilteredCount === 'number' ? result.raiMediaFilteredCount : 0;
  if (filteredCount > 0 || reasons.length > 0) {
    return { ok: true, operation: { name, done: true, outcome: 'filtered', reasons } };
  }
  return { ok: true, operation: { name, done: true, outcome: 'empty' } };
}

function firstVideoUri(samples: unknown): string | undefined {
  if (!Array.isArray(samples)) return undefined;
  for (const sample of samples) {
    const video = isRecord(sample) && isRecord(sample.video) ? sample.video : undefined;
    if (typeof video?.uri === 'string' && URL.canParse(video.uri)) return video.uri;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
