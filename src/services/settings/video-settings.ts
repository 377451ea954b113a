import { type BotLocale, isBotLocale } from '../i18n/locales.ts';
import type { Collection, Store } from '../store/store.ts';

/**
 * What a server's admins choose for the bot beyond quotas: where it may be used and the defaults
 * a member's request starts from.
 */

export interface ServerVideoSettings {
  /** Channels the bot answers in; empty means every channel. */
  allowedChannelIds: string[];
  defaultDurationSeconds: number | null;
  /** Always one of the offered models; a stored model that is no longer offered reads as null. */
  defaultModel: string | null;
  /** The language the bot speaks in the server's channels; absent: the server's locale in Discord. */
  language?: BotLocale;
}

export type VideoSettingsPatch = Partial<
  Omit<ServerVideoSettings, 'allowedChannelIds' | 'language'> & { language: BotLocale | null }
>;

const UNSET: ServerVideoSettings = {
  allowedChannelIds: [],
  defaultDurationSeconds: null,
  defaultModel: null,
};

export class VideoSettings {
  private readonly settings: Collection<ServerVideoSettings>;
  private readonly offeredModels: readonly string[];

  constructor({ store, offeredModels }: { store: Store; offeredModels: readonly string[] }) {
    this.settings = store.collection('guild-settings');
    this.offeredModels = offeredModels;
  }

  async get(guildId: string): Promise<ServerVideoSettings> {
    return this.readable((await this.settings.get(guildId)) ?? UNSET);
  }

  /** Sets the default duration and model; null unsets one. Throws on a model that is not offered. */
  async update(guildId: string, patch: VideoSettingsPatch): Promise<ServerVideoSettings> {
    if (patch.defaultModel && !this.offeredModels.includes(patch.defaultModel)) {
      throw new RangeError(`"${patch.defaultModel}" is not one of the offered models`);
    }
    if (patch.language && !isBotLocale(patch.language)) {
      throw new RangeError(`"${patch.language}" is not one of the bot's languages`);
    }
    return this.change(guildId, (current) => ({ ...current, ...patch }) as ServerVideoSettings);
  }

  async allowChannel(guildId: string, channelId: string): Promise<ServerVideoSettings> {
    return this.change(guildId, (current) => ({
      ...current,
      allowedChannelIds: [...current.allowedChannelIds.filter((id) => id !== channelId), channelId],
    }));
  }

  async disallowChannel(guildId: string, channelId: string): Promise<ServerVideoSettings> {
    return this.change(guildId, (current) => ({
      ...current,
      allowedChannelIds: current.allowedChannelIds.filter((id) => id !== channelId),
    }));
  }

  /** Lets the bot answer in every channel again. */
  async allowAllChannels(guildId: string): Promise<ServerVideoSettings> {
    return this.change(guildId, (current) => ({ ...current, allowedChannelIds: [] }));
  }

  private async change(
    guildId: string,
    change: (current: ServerVideoSettings) => ServerVideoSettings,
  ): Promise<ServerVideoSettings> {
    const next = await this.settings.update(guildId, (stored) => {
      const changed = change(stored ?? UNSET);
      return { next: changed, result: changed };
    });
    return this.readable(next);
  }

  /** Offered models come from the settings and can change between restarts. */
  private readable(settings: ServerVideoSettings): ServerVideoSettings {
    const modelOffered = settings.defaultModel !== null && this.offeredModels.includes(settings.defaultModel);
    const { language, ...rest } = settings;
    return {
      ...rest,
      defaultModel: modelOffered ? settings.defaultModel : null,
      ...(isBotLocale(language) ? { language } : {}),
    };
  }
}

/** The language of a server's channels: the one its admins pinned, else its locale in Discord. */
export function serverLocale(
  settings: ServerVideoSettings,
  preferredLocale: string | null | undefined,
): string | undefined {
  return settings.language ?? preferredLocale ?? undefined;
}

/** The same check on settings already read, so a caller that has them needs no second read. */
export function allowsChannel(
  settings: ServerVideoSettings,
  channelId: string,
  parentChannelId?: string | null,
): boolean {
  const { allowedChannelIds } = settings;
  if (allowedChannelIds.length === 0) return true;
  return (
    allowedChannelIds.includes(channelId) ||
    (!!parentChannelId && allowedChannelIds.includes(parentChannelId))
  );
}
