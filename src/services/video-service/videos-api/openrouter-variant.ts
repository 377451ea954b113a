import type { CreateVideoJobRequest } from './videos-api-request.ts';

/**
 * OpenRouter's wording of the Videos API (`variant: openrouter`): the same life cycle as OpenAI's
 * (`POST /videos`, polls of `GET /videos/{id}`), other field names. Its job object carries
 * `urls` (signed storage links anyone holding them can open: the member's link), `unsigned_urls`
 * (its content proxy, which needs the key: downloaded, never shown) and `usage.cost` when done.
 */

/** The frame size asked for: 720p keeps most videos under Discord's upload limits. */
export const OPENROUTER_RESOLUTION = '720p';

/**
 * The JSON body of an OpenRouter create. The starting image goes by URL: the member's link as
 * OpenRouter's docs ask, or, for a provider set to send bytes, a `data:` URL of them.
 */
export function openRouterCreateBody(job: CreateVideoJobRequest): string {
  const imageUrl = job.image && ('url' in job.image ? job.image.url : dataUrlOf(job.image));
  return JSON.stringify({
    model: job.model,
    prompt: job.prompt,
    duration: job.seconds === undefined ? undefined : Number(job.seconds),
    aspect_ratio: job.aspectRatio,
    resolution: job.resolution,
    frame_images: imageUrl
      ? [{ type: 'image_url', image_url: { url: imageUrl }, frame_type: 'first_frame' }]
      : undefined,
  });
}

function dataUrlOf(image: { bytes: Uint8Array; contentType: string }): string {
  return `data:${image.contentType};base64,${Buffer.from(image.bytes).toString('base64')}`;
}
