import { describe, expect, it } from 'vitest';
import { QUEUE_OWNER } from '../../../src/services/jobs/job-records.ts';
import { isKnownDead, newProcessId } from '../../../src/services/jobs/process-identity.ts';

describe('isKnownDead', () => {
  const self = newProcessId('box-1/12', 'a-b_c');

  it('on the embedded store, every other owner is a dead predecessor (one process by definition)', () => {
    const dead = isKnownDead('sqlite', self);
    expect(dead(newProcessId('other-host/99', 'x'))).toBe(true);
    expect(dead(self)).toBe(false);
    expect(dead(QUEUE_OWNER)).toBe(false);
  });

  it('on Redis, only an earlier process of the same host and pid', () => {
    const dead = isKnownDead('redis', self);
    expect(dead(newProcessId('box-1/12', 'older'))).toBe(true);
    expect(dead(newProcessId('box-1/123', 'older'))).toBe(false);
    expect(dead(newProcessId('box-1/1', '2-older'))).toBe(false);
    expect(dead(newProcessId('box-2/12', 'older'))).toBe(false);
    expect(dead('box-1-12-legacy')).toBe(false);
    expect(dead(self)).toBe(false);
    expect(dead(QUEUE_OWNER)).toBe(false);
  });
});
