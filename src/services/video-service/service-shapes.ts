import type { ProviderShape } from '../catalogue/catalogue.ts';
import { CHAT_CAPABILITIES } from './relay/relay-capabilities.ts';
import type { ModelCapabilities } from './video-provider.ts';
import { videosApiCapabilities } from './videos-api/videos-api-capabilities.ts';

/**
 * The catalogue shapes a set-up without `MODELS_FILE` can name, by the values of its setting
 * (`SORA_API_FORMAT`: the setting keeps its name; the bot's word for the kind of service is shape).
 */
export const SETTINGS_SHAPES = { chat: 'chat-relay', videos: 'openai-videos' } as const satisfies Record<
  string,
  ProviderShape
>;
export type SettingsShapeName = keyof typeof SETTINGS_SHAPES;
export const SETTINGS_SHAPE_NAMES = Object.keys(SETTINGS_SHAPES) as [
  SettingsShapeName,
  ...SettingsShapeName[],
];
export type SettingsShape = (typeof SETTINGS_SHAPES)[SettingsShapeName];

/**
 * What a model offers on a shape, known without a connection: the commands registered, the
 * flags read and the forms shown all follow it.
 */
export function capabilitiesOf(shape: SettingsShape, model: string): ModelCapabilities {
  return shape === 'openai-videos' ? videosApiCapabilities(model) : CHAT_CAPABILITIES;
}
