import { hostname } from 'node:os';
import { QUEUE_OWNER } from './job-records.ts';

/**
 * The machine and the operating-system process a bot process runs as, e.g. `host/1234`. Two bot
 * processes with the same identity cannot both be running: the later one is the earlier one's
 * successor (a restart in the same container keeps its host name and, often, its pid).
 */
export function currentIdentity(): string {
  return `${hostname()}/${process.pid}`;
}

/** Names a process in leases, job records, reservations and logs: unique across restarts and machines. */
export function newProcessId(identity: string, nonce: string): string {
  // The nonce is base64url and host names have no '/', so the last '/' ends the identity.
  return `${identity}/${nonce}`;
}

function identityOf(processId: string): string | undefined {
  const end = processId.lastIndexOf('/');
  return end === -1 ? undefined : processId.slice(0, end);
}

/**
 * Whether the owner of a job or a reservation is certainly no longer running, so this process may
 * take its work over without waiting for its lease to run out: on the embedded store there is one
 * process by definition, so every other owner is a dead predecessor; on Redis, one with this
 * process's own identity is.
 */
export function isKnownDead(backend: 'sqlite' | 'redis', selfId: string): (ownerId: string) => boolean {
  const self = identityOf(selfId);
  return (ownerId) => {
    if (ownerId === selfId || ownerId === QUEUE_OWNER) return false;
    if (backend === 'sqlite') return true;
    return self !== undefined && identityOf(ownerId) === self;
  };
}
