import type { AspectRatio } from '../../catalogue/catalogue.ts';
import type { VideoRequest } from '../video-provider.ts';

/** Relays read the frame from words in the prompt. */
const ASPECT_RATIO_HINTS = {
  '16:9': 'landscape 16:9',
  '9:16': 'portrait 9:16',
  '1:1': 'square 1:1',
} as const satisfies Record<AspectRatio, string>;

/** The prompt plus the plain-text hints relays understand (`duration: 10 seconds`, `portrait 9:16`). */
export function buildPromptText(request: VideoRequest): string {
  const hints: string[] = [];
  if (request.durationSeconds) hints.push(`duration: ${request.durationSeconds} seconds`);
  if (request.aspectRatio) hints.push(ASPECT_RATIO_HINTS[request.aspectRatio]);
  return hints.length > 0 ? `${request.prompt}\n\n${hints.join(', ')}` : request.prompt;
}

export function chatCompletionsBody(request: VideoRequest): string {
  const content: object[] = [{ type: 'text', text: buildPromptText(request) }];
  if (request.imageUrl) content.push({ type: 'image_url', image_url: { url: request.imageUrl } });
  return JSON.stringify({ model: request.model, stream: true, messages: [{ role: 'user', content }] });
}
