/**
 * The stage lock: one holder at a time under a race, stale locks taken over, owners named,
 * release by the owner only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import { acquireLock, describeOwner, isStale, processStart, readOwner } from '../lib/lock';
import { PROJECT_ROOT } from '../lib/files';

const dir = mkdtempSync(join(tmpdir(), 'rsg-lock-'));

test('6 processes × 200 rounds: never two holders at once', async () => {
  const lock = join(dir, 'race.lock'),
    marker = join(dir, 'inside'),
    log = join(dir, 'log');
  writeFileSync(log, '');
  const racer = join(PROJECT_ROOT, 'test', 'fixtures', 'scripts', 'lock-racer.ts');
  const runs = Array.from(
    { length: 6 },
    () =>
      new Promise<number>((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', racer, lock, marker, log, '200'], { stdio: 'inherit' });
        c.on('close', (code) => resolve(code ?? 1));
      }),
  );
  assert.equal(await Promise.all(runs), [0, 0, 0, 0, 0, 0]);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.is(lines.filter((l) => l.startsWith('done')).length, 6);
  assert.equal(
    lines.filter((l) => l.startsWith('overlap')),
    [],
    'overlaps',
  );
  assert.not.ok(existsSync(lock), 'released');
});

test('a lock left by a dead process is taken over; one whose PID now belongs to another process too', async () => {
  const lock = join(dir, 'stale.lock');
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  writeFileSync(lock, JSON.stringify({ host: hostname(), pid: Number(dead.stdout), start: '1', since: 'then' }));
  let release = await acquireLock(lock, { pollMs: 5 });
  assert.is(readOwner(lock)!.pid, process.pid);
  release();
  // PID reuse: our own (live) PID but another process start time.
  writeFileSync(lock, JSON.stringify({ host: hostname(), pid: process.pid, start: 'not-this-process', since: 'then' }));
  release = await acquireLock(lock, { pollMs: 5 });
  assert.is(readOwner(lock)!.start, processStart(process.pid));
  release();
});

test('isStale: by its holder when on this host, by its heartbeat’s age otherwise or when unreadable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsg-stale-'));
  const path = join(dir, 'lock');
  writeFileSync(path, 'x');
  const old = (Date.now() - 120_000) / 1000;
  const me = { host: hostname(), pid: process.pid, start: processStart(process.pid), since: '' };
  const elsewhere = { ...me, host: `${hostname()}-other` };
  // fresh heartbeat
  assert.is(isStale(path, null, 60_000), false);
  assert.is(isStale(path, elsewhere, 60_000), false);
  assert.is(isStale(path, me, 60_000), false);
  // a heartbeat two minutes old
  utimesSync(path, old, old);
  assert.is(isStale(path, null, 60_000), true);
  assert.is(isStale(path, elsewhere, 60_000), true);
  assert.is(isStale(path, me, 60_000), false, 'a live holder on this host keeps its lock whatever the age');
  // a holder on this host whose process is gone, or whose PID now belongs to another process
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  assert.is(isStale(path, { ...me, pid: dead }, 3_600_000), true);
  assert.is(isStale(path, { ...me, start: 'another start' }, 3_600_000), true);
  // no file: free, not stale
  assert.is(isStale(join(dir, 'none'), me, 0), false);
  rmSync(dir, { recursive: true, force: true });
});

test('a waiting process says who holds the lock; release removes only its own lock', async () => {
  const lock = join(dir, 'held.lock');
  const release = await acquireLock(lock, { pollMs: 5 });
  const other = spawn(process.execPath, [
    '--import',
    'tsx',
    '-e',
    `
    import { acquireLock, describeOwner } from ${JSON.stringify(join(PROJECT_ROOT, 'lib', 'lock.ts'))};
    const say = (o) => console.log('waiting for ' + describeOwner(o));
    const r = await acquireLock(${JSON.stringify(lock)}, { pollMs: 5, onWait: say });
    console.log('got it'); r();`,
  ]);
  let out = '';
  other.stdout.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 2500));
  assert.match(out, `waiting for pid ${process.pid} on ${hostname()}`);
  assert.not.match(out, 'got it');
  // Someone else's lock file in place of ours: our release leaves it alone.
  const theirs = JSON.stringify({ host: 'elsewhere', pid: 1, start: '1', since: 'now' });
  writeFileSync(lock, theirs);
  release();
  assert.is(readFileSync(lock, 'utf8'), theirs);
  rmSync(lock);
  await new Promise((r) => other.on('close', r));
  assert.match(out, 'got it');
  assert.match(describeOwner(null), 'unknown process');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
