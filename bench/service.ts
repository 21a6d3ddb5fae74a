/**
 * The reward service under load: `npm run serve` in its own process on loopback, a client posting
 * OpenRLHF-shaped batches of 512 rollouts (prompt + completion, JSON-string labels with the image
 * size, DIOR-sized 800×800 images) for a bounded time, with 1 and 4 requests in flight. Reported:
 * rollouts/s end to end, against the same batches scored in-process (the HTTP + JSON overhead).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/files';
import { Rng } from '../lib/rng';
import { buildService, completionOf, DEFAULT_SERVICE, parseLabel, scoreRollout } from '../lib/service';
import { table, timeIt } from './harness';

const BATCH = 512;
const TARGET = 20_000; // rollouts/s, the service's promise for batches of 512

function makeBatch(seed: number) {
  const rng = new Rng(seed);
  const prompt =
    '<|im_start|>user\n<image>Please provide the bounding box of: the storage tank at the top left<|im_end|>\n' +
    '<|im_start|>assistant\n';
  const query: string[] = [],
    prompts: string[] = [],
    labels: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    const x = rng.int(0, 700),
      y = rng.int(0, 700),
      w = rng.int(8, 100),
      h = rng.int(8, 100);
    const p = [x + rng.int(-20, 20), y + rng.int(-20, 20)].map((v) => Math.max(0, v));
    const completion = rng.bool(0.1)
      ? 'The tank is near the top left corner.' // a malformed answer: zero reward
      : `<think>There are four storage tanks; the target is the one closest to the top left corner.</think>` +
        `<answer>[${p[0]}, ${p[1]}, ${p[0] + rng.int(6, 110)}, ${p[1] + rng.int(6, 110)}]</answer>`;
    query.push(prompt + completion + '<|im_end|>');
    prompts.push(prompt);
    labels.push(JSON.stringify({ box: [x, y, x + w, y + h], image_size: [800, 800] }));
  }
  return { query, prompts, labels };
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts/serve.ts'), '--port', '0'], {
    cwd: PROJECT_ROOT,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (c) => reject(new Error(`serve exited ${c}: ${out}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

export async function benchService(seconds = 5): Promise<{ rolloutsPerSecond: number[] }> {
  console.log(`\n## Reward service (loopback, batches of ${BATCH}, ${seconds} s per setting)\n`);
  const batches = [1, 2, 3, 4].map(makeBatch);
  const bodies = batches.map((b) => JSON.stringify(b));

  // In-process: the same work without HTTP and JSON.
  const cfg = DEFAULT_SERVICE;
  const inproc = timeIt(() => {
    const b = batches[0];
    for (let i = 0; i < BATCH; i++)
      scoreRollout(completionOf(b.query[i], b.prompts[i]), parseLabel(b.labels[i], 'l'), cfg, 'l');
  });
  const inprocRate = BATCH / (inproc.medianMs / 1000);

  // Sanity: the served rewards equal the in-process ones.
  const app = buildService(cfg);
  const check = (
    await app.inject({
      method: 'POST',
      url: '/get_reward',
      payload: bodies[0],
      headers: { 'content-type': 'application/json' },
    })
  ).json();
  await app.close();
  const b0 = batches[0];
  const expect = b0.query.map(
    (q, i) => scoreRollout(completionOf(q, b0.prompts[i]), parseLabel(b0.labels[i], 'l'), cfg, 'l').total,
  );
  if (JSON.stringify(check.rewards) !== JSON.stringify(expect))
    throw new Error('bench service: served rewards differ from in-process rewards');

  const server = await startServer();
  const rows: (string | number)[][] = [
    ['in flight', 'requests', 'rollouts/s', 'p50 latency', 'p99 latency', `≥ ${TARGET}/s`],
  ];
  const rates: number[] = [];
  try {
    const post = (body: string) =>
      fetch(`${server.url}/get_reward`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(
        async (r) => {
          if (!r.ok) throw new Error(`bench service: HTTP ${r.status}: ${await r.text()}`);
          return r.json();
        },
      );
    for (let k = 0; k < 20; k++) await post(bodies[k % bodies.length]); // warm-up (JIT, connections)
    for (const inFlight of [1, 4]) {
      const latencies: number[] = [];
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      let n = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async (_, w) => {
          while (performance.now() < end) {
            const s = performance.now();
            await post(bodies[(w + n) % bodies.length]);
            latencies.push(performance.now() - s);
            n++;
          }
        }),
      );
      const dt = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      const rate = (n * BATCH) / dt;
      rates.push(rate);
      const q = (p: number) =>
        `${latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1)} ms`;
      rows.push([inFlight, n, Math.round(rate), q(0.5), q(0.99), rate >= TARGET ? 'yes' : 'NO']);
    }
  } finally {
    server.stop();
  }
  console.log(table(rows));
  console.log(
    `\nin-process scoring of the same batches: ${Math.round(inprocRate)} rollouts/s; ` +
      `served/in-process = ${(Math.max(...rates) / inprocRate).toFixed(2)} ` +
      "(HTTP + JSON overhead; server and client share this machine's cores)",
  );
  return { rolloutsPerSecond: rates };
}
