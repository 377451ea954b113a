import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import { allowsChannel, VideoSettings } from '../../../src/services/settings/video-settings.ts';
import { createStore } from '../../../src/services/store/create-store.ts';
import type { Store } from '../../../src/services/store/store.ts';

const GUILD = '200000000000000001';
const CHANNEL_A = '300000000000000001';
const CHANNEL_B = '300000000000000002';

describe('VideoSettings', () => {
  let dataDir: string;
  let store: Store;
  let settings: VideoSettings;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-settings-'));
    store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 5_000 });
    settings = new VideoSettings({ store, offeredModels: ['sora-2', 'sora-2-pro'] });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts with every channel allowed and no defaults', async () => {
    expect(await settings.get(GUILD)).toEqual({
      allowedChannelIds: [],
      defaultDurationSeconds: null,
      defaultModel: null,
    });
    expect(allowsChannel(await settings.get(GUILD), CHANNEL_A)).toBe(true);
  });

  it('once a channel is chosen, allows only chosen channels and their threads', async () => {
    await settings.allowChannel(GUILD, CHANNEL_A);
    await settings.allowChannel(GUILD, CHANNEL_A);
    expect((await settings.get(GUILD)).allowedChannelIds).toEqual([CHANNEL_A]);
    expect(allowsChannel(await settings.get(GUILD), CHANNEL_A)).toBe(true);
    expect(allowsChannel(await settings.get(GUILD), CHANNEL_B)).toBe(false);
    expect(allowsChannel(await settings.get(GUILD), '400000000000000001', CHANNEL_A)).toBe(true);
  });

  it('removing the last chosen channel, or clearing, allows every channel again', async () => {
    await settings.allowChannel(GUILD, CHANNEL_A);
    await settings.allowChannel(GUILD, CHANNEL_B);
    await settings.disallowChannel(GUILD, CHANNEL_A);
    expect(allowsChannel(await settings.get(GUILD), CHANNEL_A)).toBe(false);
    await settings.allowAllChannels(GUILD);
    expect(allowsChannel(await settings.get(GUILD), CHANNEL_A)).toBe(true);
  });

  it('sets and unsets the default duration and model', async () => {
    await settings.update(GUILD, { defaultDurationSeconds: 10, defaultModel: 'sora-2-pro' });
    expect(await settings.get(GUILD)).toMatchObject({
      defaultDurationSeconds: 10,
      defaultModel: 'sora-2-pro',
    });
    await settings.update(GUILD, { defaultModel: null });
    expect(await settings.get(GUILD)).toMatchObject({ defaultDurationSeconds: 10, defaultModel: null });
  });

  it('refuses a model that is not offered, and forgets one that stopped being offered', async () => {
    await expect(settings.update(GUILD, { defaultModel: 'veo-3' })).rejects.toThrow(
      /not one of the offered models/,
    );
    await settings.update(GUILD, { defaultModel: 'sora-2-pro' });
    const afterRestart = new VideoSettings({ store, offeredModels: ['sora-2'] });
    expect((await afterRestart.get(GUILD)).defaultModel).toBeNull();
  });

  it('keeps settings of different servers apart', async () => {
    await settings.allowChannel(GUILD, CHANNEL_A);
    expect(allowsChannel(await settings.get('200000000000000002'), CHANNEL_B)).toBe(true);
  });
});
