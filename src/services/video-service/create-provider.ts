import type { ServiceConfig } from '../../config.ts';
import type { Logger } from '../logging/logger.ts';
import { RelayVideoProvider } from './relay/relay-video-provider.ts';
import type { VideoProvider } from './video-provider.ts';
import { VideosApiProvider } from './videos-api/videos-api-provider.ts';

/** The provider for the configured shape: the chat relay (default) or the job-based Videos API. */
export function createVideoProvider(
  config: ServiceConfig,
  logger?: Logger,
): VideoProvider & { close?(): Promise<void> } {
  if (config.SORA_API_FORMAT === 'videos') {
    return new VideosApiProvider({
      apiUrl: config.SORA_API_URL,
      apiKey: config.SORA_API_KEY,
      pollIntervalMs: config.SORA_POLL_INTERVAL_MS,
      imageInput: config.SORA_IMAGE_INPUT,
      maxImageBytes: config.MAX_IMAGE_BYTES,
      allowPrivateUrls: config.ALLOW_PRIVATE_VIDEO_URLS,
      downloadTimeoutMs: config.VIDEO_DOWNLOAD_TIMEOUT_MS,
      timeoutMs: config.SERVICE_TIMEOUT_MS,
      logger,
    });
  }
  return new RelayVideoProvider({
    apiUrl: config.SORA_API_URL,
    apiKey: config.SORA_API_KEY,
    stallTimeoutMs: config.SERVICE_STALL_TIMEOUT_MS,
    timeoutMs: config.SERVICE_TIMEOUT_MS,
    logger,
  });
}
