/**
 * A lock file that at most one process holds, even across machines sharing a filesystem:
 *
 * - Acquisition is atomic with the owner already written: the owner record goes to a temp file
 *   first, which is then hard-linked to the lock path (`link` fails when the lock exists), so no
 *   reader ever sees an empty or half-written lock.
 * - The owner record names the host, the PID, the process start time (from /proc, so a PID
 *   reused by another process is told apart) and a heartbeat: the holder touches the file every
 *   few seconds. A lock is stale when its holder is on this host and no longer running, or when
 *   its heartbeat is older than `staleAfterMs` (holders on other hosts).
 * - A stale lock is taken over by renaming it aside first (one process wins the rename), then
 *   acquiring normally.
 * - Release removes the file only if it still holds this owner's record.
 * - A process that waits says who holds the lock, once, and again every minute.
 */
import { hostname } from 'node:os';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
  mkdirSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** A holder on another host whose heartbeat is older than this is gone (the default of `staleAfterMs`). */
export const STALE_AFTER_MS = 60_000;

export type LockOwner = { host: string; pid: number; start: string; since: string };

/** The process start time from /proc/<pid>/stat (clock ticks since boot), or '' where unknown. */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readOwner(path: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

const self = (): LockOwner => ({
  host: hostname(),
  pid: process.pid,
  start: processStart(process.pid),
  since: new Date().toISOString(),
});

/** Whether the lock at `path`, owned by `o`, is stale (see the header). */
export function isStale(path: string, o: LockOwner | null, staleAfterMs: number): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(path).mtimeMs;
  } catch {
    return false; // gone: not stale, just free
  }
  if (!o) return age > staleAfterMs; // unreadable (written by something else): trust only its age
  if (o.host === hostname()) return !running(o.pid) || (o.start !== '' && processStart(o.pid) !== o.start);
  return age > staleAfterMs;
}

export type LockOptions = {
  /** how often to retry while another process holds the lock */
  pollMs?: number;
  /** heartbeat period of the holder */
  heartbeatMs?: number;
  /** a lock whose heartbeat is older than this is stale (holders on other hosts) */
  staleAfterMs?: number;
  /** told who holds the lock while waiting */
  onWait?: (owner: LockOwner | null) => void;
};

let tmpCounter = 0;

function inode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/** Try once; true when this process now holds the lock. */
function tryAcquire(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${owner.pid}.${tmpCounter++}.new`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Take the lock at `path`, waiting while a live process holds it. Returns a release function
 * (idempotent; it removes the lock only while this process owns it).
 */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const poll = opts.pollMs ?? 1000,
    beat = opts.heartbeatMs ?? 5000,
    staleAfter = opts.staleAfterMs ?? STALE_AFTER_MS;
  mkdirSync(dirname(path), { recursive: true });
  const owner = self();
  let lastNotice = 0;
  for (;;) {
    if (tryAcquire(path, owner)) break;
    const ino = inode(path);
    const holder = readOwner(path);
    if (ino !== null && isStale(path, holder, staleAfter)) {
      // Rename aside: of several processes judging it stale, one rename succeeds. The inode check
      // narrows the window in which another process could have replaced it by a live lock.
      const aside = `${path}.stale-${owner.pid}-${tmpCounter++}`;
      try {
        if (inode(path) !== ino) continue;
        renameSync(path, aside);
        const moved = readOwner(aside);
        // Another process may have replaced the stale lock by a live one in between: put it back.
        if (moved && !isStale(aside, moved, staleAfter)) {
          try {
            linkSync(aside, path);
          } catch {
            /* someone holds it again; wait below */
          }
        }
        rmSync(aside, { force: true });
      } catch {
        /* someone else moved it first */
      }
      continue;
    }
    if (Date.now() - lastNotice > 60_000) {
      lastNotice = Date.now();
      opts.onWait?.(holder);
    }
    await new Promise((r) => setTimeout(r, poll));
  }
  const timer = setInterval(() => {
    const o = readOwner(path);
    if (o && o.pid === owner.pid && o.host === owner.host && o.start === owner.start) {
      const now = new Date();
      try {
        utimesSync(path, now, now);
      } catch {
        /* released meanwhile */
      }
    }
  }, beat);
  timer.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(timer);
    const o = readOwner(path);
    if (o && o.pid === owner.pid && o.host === owner.host && o.start === owner.start) rmSync(path, { force: true });
  };
}

/** "pid 123 on host-a since 2026-11-30T20:31:38Z", for messages. */
export function describeOwner(o: LockOwner | null): string {
  return o ? `pid ${o.pid} on ${o.host} since ${o.since}` : 'an unknown process (unreadable lock file)';
}
