import type { VideoRequest } from '../video-provider.ts';

/** Relays read the orientation from words in the prompt. */
const ORIENTATION_HINTS = { landscape: 'landscape 16:9', portrait: 'portrait 9:16' } as const;

/** The prompt plus the plain-text hints relays understand (`duration: 10 seconds`, `portrait 9:16`). */
export function buildPromptText(request: VideoRequest): string {
  const hints: string[] = [];
  if (request.durationSeconds) hints.push(`duration: ${request.durationSeconds} seconds`);
  if (request.orientation) hints.push(ORIENTATION_HINTS[request.orientation]);
  return hints.length > 0 ? `${request.prompt}\n\n${hints.join(', ')}` : request.prompt;
}

export function chatCompletionsBody(request: VideoRequest): string {
  const content: object[] = [{ type: 'text', text: buildPromptText(request) }];
  if (request.imageUrl) content.push({ type: 'image_url', image_url: { url: request.imageUrl } });
  return JSON.stringify({ model: request.model, stream: true, messages: [{ role: 'user', content }] });
}
