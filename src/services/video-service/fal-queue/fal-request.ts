/**
 * Where a fal request lives. Its model path (`fal-ai/kling-video/v3/standard/text-to-video`) is
 * the app (`fal-ai/kling-video`, the first two segments) and an endpoint inside it; status,
 * result and cancel are addressed by app and request id only. The id the bot records is
 * `{app}/{request id}`, so a fresh provider (after a restart, on another worker) finds the
 * request whichever of the model's two paths (text or image) made it.
 */

export interface FalRequest {
  /** `owner/app`. */
  app: string;
  requestId: string;
}

const SEGMENT = /^[\w.~-]+$/;

/** The app of a model path, or undefined when the path has fewer than two plain segments. */
export function appOf(modelPath: string): string | undefined {
  const segments = segmentsOf(modelPath);
  return segments && segments.length >= 2 ? segments.slice(0, 2).join('/') : undefined;
}

/** The model path as a URL path, each segment checked, so a catalogue entry cannot climb out of the base URL. */
export function modelUrlPath(modelPath: string): string | undefined {
  return segmentsOf(modelPath)?.join('/');
}

export function recordedIdOf(request: FalRequest): string {
  return `${request.app}/${request.requestId}`;
}

/** A recorded id read back; a bare request id (no app) belongs to `defaultApp`. */
export function requestOf(recordedId: string, defaultApp: string): FalRequest | undefined {
  const cut = recordedId.lastIndexOf('/');
  const app = cut < 0 ? defaultApp : recordedId.slice(0, cut);
  const requestId = recordedId.slice(cut + 1);
  if (!SEGMENT.test(requestId) || appOf(app) !== app) return undefined;
  return { app, requestId };
}

export function statusPath(request: FalRequest): string {
  return `${resultPath(request)}/status`;
}

export function resultPath(request: FalRequest): string {
  return `${request.app}/requests/${request.requestId}`;
}

export function cancelPath(request: FalRequest): string {
  return `${resultPath(request)}/cancel`;
}

function segmentsOf(path: string): string[] | undefined {
  const segments = path
    .trim()
    .replace(/^\/+|\/+$/g, '')
    .split('/');
  if (segments.some((segment) => !SEGMENT.test(segment) || segment === '.' || segment === '..')) {
    return undefined;
  }
  return segments;
}
