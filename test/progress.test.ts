/** lib/progress.ts: the duration format (hand-computed) and the plain-line progress a log gets. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress, fmtDuration } from '../lib/progress';

test('fmtDuration: seconds, minutes and hours, rounded to the unit shown', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [0.4, '0s'],
    [42.49, '42s'],
    [59.4, '59s'],
    [59.6, '1m00s'], // not "60s"
    [60, '1m00s'],
    [187, '3m07s'],
    [119.6, '2m00s'], // not "1m60s"
    [3599.4, '59m59s'],
    [3599.6, '1h00m'], // not "59m60s"
    [3630, '1h01m'], // 60.5 minutes round up
    [7170, '2h00m'], // 119.5 minutes, not "1h60m"
    [4 * 3600 + 33 * 60 + 10, '4h33m'],
  ];
  for (const [s, want] of cases) assert.is(fmtDuration(s), want, `${s} s`);
  assert.is(fmtDuration(NaN), '--');
  assert.is(fmtDuration(Infinity), '--');
});

/** A stream that is not a terminal, collecting what is written. */
function logStream(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

test('Progress in a log: one line per `every` percent, the last at 100%, with counts and the extra text', () => {
  const { stream, lines } = logStream();
  const p = new Progress('train', 50, { stream, every: 20 });
  for (let done = 1; done <= 50; done++) p.update(done, `loss ${done}`);
  // 20%, 40%, 60%, 80% at done = 10, 20, 30, 40, then 100% at 50
  assert.is(lines.length, 5, lines.join(''));
  assert.equal(
    lines.map((l) => l.split(' ').slice(0, 3).join(' ')),
    ['train 20% 10/50', 'train 40% 20/50', 'train 60% 30/50', 'train 80% 40/50', 'train 100% 50/50'],
  );
  for (const l of lines) {
    assert.ok(l.endsWith('\n'));
    assert.match(l, / elapsed, ETA \S+ {2}loss \d+\n$/);
  }
  assert.match(lines[4], /ETA 0s {2}loss 50\n$/); // nothing left
});

test('Progress: a line each time a multiple of `every` percent is crossed, whatever the step size', () => {
  const { stream, lines } = logStream();
  const p = new Progress('eval', 7, { stream, every: 20 });
  for (let done = 1; done <= 7; done++) p.update(done);
  // 14% (no mark), 28% (past 20), 42% (past 40), 57% (no new mark), 71% (past 60), 85% (past 80), 100%
  assert.equal(
    lines.map((l) => l.split(' ')[1]),
    ['28%', '42%', '71%', '85%', '100%'],
  );
});

test('Progress: silent writes nothing; a zero total reports done at once', () => {
  const quiet = logStream();
  const p = new Progress('x', 10, { stream: quiet.stream, silent: true });
  for (let i = 1; i <= 10; i++) p.update(i);
  assert.is(quiet.lines.length, 0);
  const empty = logStream();
  new Progress('none', 0, { stream: empty.stream }).update(0);
  assert.is(empty.lines.length, 1);
  assert.match(empty.lines[0], /^none 100% 0\/0 /);
});

test.run();
