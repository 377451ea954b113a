import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JobRecord, JobRecords } from '../../../src/services/jobs/job-records.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import { createStore } from '../../../src/services/store/create-store.ts';
import type { Store } from '../../../src/services/store/store.ts';

let dataDir: string;
let store: Store;

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-records-'));
  store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 5_000 });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A record as the version before aspect ratios wrote it: the frame as `orientation`. */
function previousVersionRecord(id: string, orientation: string): JobRecord {
  return {
    id,
    request: {
      requesterId: '1',
      guildId: '3',
      channelId: '2',
      prompt: 'a tall tower',
      model: 'sora-2',
      durationSeconds: 8,
      orientation,
      source: 'slash',
    } as JobRecord['request'],
    state: 'generating',
    location: { kind: 'channel', channelId: '2', uploadLimitBytes: 1 },
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
}

describe('job records written by the previous version', () => {
  it('read their orientation as the aspect ratio it meant, for Retry and for a restart alike', async () => {
    const records = new JobRecords(store, silentLogger, 'old-process');
    await records.save(previousVersionRecord('portrait-job', 'portrait'));
    await records.save(previousVersionRecord('landscape-job', 'landscape'));

    const portrait = await records.get('portrait-job');
    expect(portrait?.request).toMatchObject({ aspectRatio: '9:16', durationSeconds: 8 });
    expect(portrait?.request).not.toHaveProperty('orientation');
    expect((await records.stored('landscape-job'))?.record.request.aspectRatio).toBe('16:9');
    const unfinished = await records.unfinished();
    expect(unfinished.map((job) => [job.id, job.record.request.aspectRatio]).sort()).toEqual([
      ['landscape-job', '16:9'],
      ['portrait-job', '9:16'],
    ]);
  });
});
