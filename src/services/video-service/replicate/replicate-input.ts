import type { CatalogueModel } from '../../catalogue/catalogue.ts';
import { providerModelName, requestedDuration } from '../catalogue-request.ts';
import { modelInput } from '../polled-job/model-input.ts';
import type { VideoRequest } from '../video-provider.ts';

/**
 * Where and what a Replicate create sends. An official model (`owner/name`) is run at
 * `POST /models/{owner}/{name}/predictions`; a pinned version (`owner/name:version`) at
 * `POST /predictions` with `version`. The input uses the bot's names (`image`, `duration` in
 * whole seconds as an integer, `aspect_ratio`) unless the catalogue renames them (Kling's
 * `start_image`). With an image, the catalogue's `image_model` runs when it names one.
 */

const OWNER_NAME = /^([\w.-]+)\/([\w.-]+)(?::([0-9a-f]{64}))?$/i;

export interface ReplicateCreate {
  path: string;
  body: { version?: string; input: Record<string, unknown> };
}

/** undefined when the catalogue's `model` is no `owner/name[:version]`. */
export function replicateCreate(model: CatalogueModel, request: VideoRequest): ReplicateCreate | undefined {
  const match = OWNER_NAME.exec(providerModelName(request, model).trim());
  if (!match) return undefined;
  const [, owner, name, version] = match;
  const input = modelInput(model, {
    prompt: request.prompt,
    image: request.imageUrl,
    duration: requestedDuration(request, model),
    aspect_ratio: request.aspectRatio,
  });
  return version
    ? { path: 'predictions', body: { version, input } }
    : { path: `models/${owner}/${name}/predictions`, body: { input } };
}
