import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config.ts';
import type { JobAsk } from '../../../src/services/jobs/job.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import { loadBlockedWords, SafetyPolicy } from '../../../src/services/safety/safety-policy.ts';
import { MAX_BLOCKED_WORDS, SafetySettings } from '../../../src/services/safety/safety-settings.ts';
import { createStore } from '../../../src/services/store/create-store.ts';
import type { Store } from '../../../src/services/store/store.ts';

/** The operator's half of the policy (AGE_RESTRICTED_ONLY, BLOCKED_WORDS_FILE) and the stored lists. */

let dataDir: string;
let store: Store;
let safety: SafetySettings;

const ask = (patch: Partial<JobAsk> = {}): JobAsk => ({
  requesterId: '100000000000000001',
  guildId: '200000000000000001',
  channelId: '300000000000000001',
  prompt: 'a quiet harbour',
  source: 'slash',
  ...patch,
});

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-safety-'));
  store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 5_000 });
  safety = new SafetySettings({ store });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the operator's policy", () => {
  it('AGE_RESTRICTED_ONLY refuses every channel that is not age-restricted, DMs and unknown channels included', async () => {
    const refusals: string[] = [];
    const policy = new SafetyPolicy({
      safety,
      ageRestrictedEverywhere: true,
      operatorWords: [],
      logger: silentLogger,
      onRefused: (_ask, reason) => refusals.push(reason),
    });
    expect(await policy.check(ask({ channelAgeRestricted: true }))).toMatchObject({ ok: true });
    expect(await policy.check(ask({ channelAgeRestricted: false }))).toMatchObject({ ok: false });
    expect(await policy.check(ask({}))).toMatchObject({ ok: false });
    expect(await policy.check(ask({ guildId: null }))).toMatchObject({ ok: false });
    expect(refusals).toEqual(['age-restricted', 'age-restricted', 'age-restricted']);
  });

  it('BLOCKED_WORDS_FILE words are refused in every server and in DMs', async () => {
    const file = path.join(dataDir, 'words.txt');
    writeFileSync(file, '# refused everywhere\n\nsecret phrase\nbanned\n');
    const policy = new SafetyPolicy({
      safety,
      ageRestrictedEverywhere: false,
      operatorWords: loadBlockedWords(file),
      logger: silentLogger,
    });
    expect(await policy.check(ask({ prompt: 'the SECRET   phrase' }))).toMatchObject({
      reason: 'blocked-word',
    });
    expect(await policy.check(ask({ guildId: null, prompt: 'Bánned' }))).toMatchObject({
      reason: 'blocked-word',
    });
    expect(await policy.check(ask({ prompt: 'refused everywhere' }))).toMatchObject({ ok: true });
  });

  it('an unreadable BLOCKED_WORDS_FILE stops the start like a bad setting', () => {
    expect(() => loadBlockedWords(path.join(dataDir, 'missing.txt'))).toThrow(ConfigError);
  });
});

describe("a server's stored policy", () => {
  it('keeps one entry per word whatever its case or accents, and a bounded list', async () => {
    const guild = '200000000000000001';
    expect(await safety.addBlockedWord(guild, 'Café')).toBe('added');
    expect(await safety.addBlockedWord(guild, 'CAFE')).toBe('already-there');
    expect(await safety.addBlockedWord(guild, '!!!')).toBe('no-words');
    for (let index = 1; index < MAX_BLOCKED_WORDS; index += 1)
      await safety.addBlockedWord(guild, `word${index}`);
    expect(await safety.addBlockedWord(guild, 'one too many')).toBe('full');
    expect(await safety.removeBlockedWord(guild, 'cafe')).toBe('removed');
    expect((await safety.get(guild)).blockedWords).toHaveLength(MAX_BLOCKED_WORDS - 1);
  });

  it('tells of a log channel it cannot post in once, until the channel is set again', async () => {
    const guild = '200000000000000001';
    await safety.setLogChannel(guild, '400000000000000001', '100000000000000009');
    expect(await safety.markLogChannelUnwritable(guild, '400000000000000001')).toBe(true);
    expect(await safety.markLogChannelUnwritable(guild, '400000000000000001')).toBe(false);
    await safety.setLogChannel(guild, '400000000000000001', '100000000000000009');
    expect(await safety.markLogChannelUnwritable(guild, '400000000000000001')).toBe(true);
  });
});
