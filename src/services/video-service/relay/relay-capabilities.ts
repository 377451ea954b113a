import { type ModelCapabilities, VIDEO_DURATIONS } from '../video-provider.ts';

/**
 * What the chat shape offers, beside the shape and apart from its client, so that reading the
 * settings (which list each shape's capabilities) does not load the relay's HTTP code.
 */
/** The chat shape names options in the prompt text; relays make 5 to 15 s, landscape or portrait. */
export const CHAT_CAPABILITIES: ModelCapabilities = {
  durations: VIDEO_DURATIONS,
  aspectRatios: ['16:9', '9:16'],
  imageInput: true,
  progress: 'text',
  remix: false,
};
