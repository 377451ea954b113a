import { CHAT_CAPABILITIES } from './relay/relay-capabilities.ts';
import type { ModelCapabilities } from './video-provider.ts';
import { videosApiCapabilities } from './videos-api/videos-api-capabilities.ts';

/** The shapes of video service the bot speaks (`SORA_API_FORMAT`). */
export const SERVICE_FORMATS = ['chat', 'videos'] as const;
export type ServiceFormat = (typeof SERVICE_FORMATS)[number];

/**
 * What a model offers on a shape, known without a connection: the commands registered, the
 * flags read and the forms shown all follow it.
 */
export function capabilitiesOf(format: ServiceFormat, model: string): ModelCapabilities {
  return format === 'videos' ? videosApiCapabilities(model) : CHAT_CAPABILITIES;
}
