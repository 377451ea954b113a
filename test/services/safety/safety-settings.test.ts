import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetySettings } from '../../../src/services/safety/safety-settings.ts';
import { storeBackends } from '../../harness/store-backends.ts';

/**
 * A server's safety policy survives restarts (SQLite) and is the same for every process on one
 * Redis: each `openStore()` is another process, or the same bot started again.
 */
describe.each(storeBackends())('the safety policy on $name', (backend) => {
  beforeAll(() => backend.start());
  afterAll(() => backend.stop());

  it('set through one store, read the same through another', async () => {
    const guild = '200000000000000002';
    const writer = await backend.openStore();
    const written = new SafetySettings({ store: writer });
    await written.setAgeRestrictedOnly(guild, true);
    await written.addBlockedWord(guild, 'Red Balloon');
    await written.setLogChannel(guild, '400000000000000002', '100000000000000002');
    await written.block(guild, '100000000000000003');
    await written.setSpoiler(guild, true);
    await writer.close();

    const reader = await backend.openStore();
    expect(await new SafetySettings({ store: reader }).get(guild)).toEqual({
      ageRestrictedOnly: true,
      blockedWords: ['Red Balloon'],
      blockedMemberIds: ['100000000000000003'],
      logChannelId: '400000000000000002',
      logChannelSetBy: '100000000000000002',
      spoiler: true,
    });
    await reader.close();
  });

  it('one DM about an unwritable log channel, however many processes find it out at once', async () => {
    const guild = '200000000000000003';
    // On Redis, three processes; SQLite is one process's store, so three callers of one store.
    const first = await backend.openStore();
    const stores =
      backend.name === 'redis'
        ? [first, await backend.openStore(), await backend.openStore()]
        : [first, first, first];
    await new SafetySettings({ store: first }).setLogChannel(guild, '400000000000000003', '1');
    const told = await Promise.all(
      stores.map((store) =>
        new SafetySettings({ store }).markLogChannelUnwritable(guild, '400000000000000003'),
      ),
    );
    expect(told.filter(Boolean)).toHaveLength(1);
    await Promise.all([...new Set(stores)].map((store) => store.close()));
  });
});
