/** lib/runs.ts: a run directory's logs — byte-stable metrics, truncated on resume as if never stopped. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunDir } from '../lib/runs';

const fresh = () => new RunDir(join(mkdtempSync(join(tmpdir(), 'rsg-runs-')), 'run'));
const read = (r: RunDir, f: string) => readFileSync(join(r.dir, f), 'utf8');

test('metrics are written with sorted keys (bytes depend on values only); timings as given', () => {
  const r = fresh();
  r.log({ step: 1, loss: 0.5, 'eval/acc50': null });
  r.log({ loss: 0.25, step: 2 });
  assert.is(read(r, 'metrics.jsonl'), '{"eval/acc50":null,"loss":0.5,"step":1}\n{"loss":0.25,"step":2}\n');
  r.logTiming({ step: 1, update_ms: 12 });
  assert.is(read(r, 'timing.jsonl'), '{"step":1,"update_ms":12}\n');
  assert.equal(r.metrics(), [
    { 'eval/acc50': null, loss: 0.5, step: 1 },
    { loss: 0.25, step: 2 },
  ]);
});

test('truncateAfter keeps headers and records up to the step, in both logs', () => {
  const r = fresh();
  r.log({ header: 'config' });
  for (let s = 1; s <= 5; s++) {
    r.log({ step: s, loss: s });
    r.logTiming({ update_ms: 10 * s, step: s });
  }
  r.truncateAfter(3);
  assert.equal(r.metrics(), [{ header: 'config' }, ...[1, 2, 3].map((s) => ({ loss: s, step: s }))]);
  // timing.jsonl keeps its own key order
  assert.is(read(r, 'timing.jsonl'), [1, 2, 3].map((s) => `{"update_ms":${10 * s},"step":${s}}\n`).join(''));
});

test('truncateAfter at the final step drops its evaluation (run and logged again), not its training record', () => {
  const r = fresh();
  r.log({ step: 4, loss: 1 });
  r.log({ step: 4, 'eval/acc50': 0.3 });
  r.truncateAfter(4, true);
  assert.equal(r.metrics(), [{ loss: 1, step: 4 }]);
  // not final: the evaluation at the checkpoint's step stays
  const q = fresh();
  q.log({ step: 4, 'eval/acc50': 0.3 });
  q.log({ step: 5, loss: 1 });
  q.truncateAfter(4);
  assert.equal(q.metrics(), [{ 'eval/acc50': 0.3, step: 4 }]);
});

test('truncateAfter drops a torn last line; resetLogs empties both logs', () => {
  const r = fresh();
  r.log({ step: 1, loss: 1 });
  appendFileSync(join(r.dir, 'metrics.jsonl'), '{"step":2,"lo');
  const err = console.error;
  const warned: string[] = [];
  console.error = (m: string) => warned.push(m);
  try {
    r.truncateAfter(5);
  } finally {
    console.error = err;
  }
  assert.is(read(r, 'metrics.jsonl'), '{"loss":1,"step":1}\n');
  assert.is(warned.length, 1);
  assert.match(warned[0], /metrics\.jsonl:2: dropping a torn last line/);
  r.logTiming({ step: 1 });
  r.resetLogs();
  assert.is(read(r, 'metrics.jsonl'), '');
  assert.is(read(r, 'timing.jsonl'), '');
});

test('a run is finished exactly when summary.json exists; config and summary round-trip', () => {
  const r = fresh();
  assert.not.ok(r.isFinished());
  r.writeConfig({ kind: 'grpo', steps: 3 });
  assert.equal(r.readConfig(), { kind: 'grpo', steps: 3 });
  assert.not.ok(r.isFinished());
  r.finish({ seconds: 1.5 });
  assert.ok(r.isFinished());
  assert.equal(r.summary(), { seconds: 1.5 });
  writeFileSync(join(r.dir, 'summary.json'), '{');
  assert.throws(() => r.summary(), /summary\.json: invalid JSON/);
});

test.run();
