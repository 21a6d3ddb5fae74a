/** The rewards as a service: OpenRLHF's remote reward protocol, grouped rollouts with w, bad requests. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildService, completionOf, DEFAULT_SERVICE, mergeConfig } from '../lib/service';
import { PROJECT_ROOT } from '../lib/files';
import { positionalRewardPerPixel } from './oracles';
import { close } from './helpers';

const GT = [0, 0, 10, 10];
const LABEL = JSON.stringify({ box: GT, image_size: [100, 100] });
const PROMPT =
  '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
  '<|im_start|>user\n<image>the ship<|im_end|>\n<|im_start|>assistant\n';
const HALF = '<think>top left</think><answer>[0, 0, 10, 5]</answer>';
// past the right edge of a 12-pixel image: R_pos clips it there, not in a 1000-pixel one
const MISS = '<think>right</think><answer>[8, 0, 20, 10]</answer>';
const EXACT = '<think>top left</think><answer>[0, 0, 10, 10]</answer>';
const BROKEN = 'the ship is at [0, 0, 10, 10]';
const pos = (b: number[]) =>
  positionalRewardPerPixel(
    { x1: b[0], y1: b[1], x2: b[2], y2: b[3] },
    { x1: 0, y1: 0, x2: 10, y2: 10 },
    { alpha: 2.5, imageWidth: 100, imageHeight: 100 },
  );

test('POST /get_reward as OpenRLHF sends it: terms hand-computed, R_pos against the per-pixel oracle', async () => {
  const app = buildService(DEFAULT_SERVICE);
  // OpenRLHF posts query = prompt + response as the chat template renders it (end token included), prompts, labels.
  const body = {
    query: [PROMPT + HALF + '<|im_end|>', PROMPT + EXACT + '<|im_end|>', PROMPT + BROKEN],
    prompts: [PROMPT, PROMPT, PROMPT],
    labels: [LABEL, LABEL, LABEL],
  };
  const res = await app.inject({
    method: 'POST',
    url: '/get_reward',
    payload: body,
    headers: { 'content-type': 'application/json' },
  });
  assert.is(res.statusCode, 200, res.body);
  const r = res.json();
  assert.equal(r.extra_logs.format, [1, 1, 0]);
  assert.equal(r.extra_logs.iou, [0.5, 1, 0]);
  close(r.extra_logs.aux[0], pos([0, 0, 10, 5]), 1e-9);
  close(r.extra_logs.aux[1], pos(GT), 1e-9);
  assert.is(r.extra_logs.aux[2], 0);
  close(r.rewards[0], 1 + 0.5 + 0.1 * pos([0, 0, 10, 5]), 1e-9);
  close(r.rewards[1], 2 + 0.1 * pos(GT), 1e-9);
  assert.is(r.rewards[2], 0);
  assert.equal(r.scores, r.rewards);
  // Per-request override: β = 0 and a bare-box label (no image size needed then).
  const plain = await app.inject({
    method: 'POST',
    url: '/get_reward',
    payload: { query: [HALF], labels: [GT], config: { reward: { beta: 0 } } },
  });
  assert.equal(plain.json().rewards, [1.5]);
  await app.close();
});

test("POST /v1/groups: terms, advantages (SPEC §4) and the group's w (eq. 8)", async () => {
  const app = buildService(mergeConfig(DEFAULT_SERVICE, { reward: { beta: 0 } }));
  const res = await app.inject({
    method: 'POST',
    url: '/v1/groups',
    payload: {
      groups: [
        { completions: [HALF, EXACT, BROKEN], label: GT },
        { completions: [EXACT, EXACT], label: { box: GT } },
      ],
    },
  });
  assert.is(res.statusCode, 200, res.body);
  const [g1, g2] = res.json().groups;
  assert.equal(
    g1.rollouts.map((r: { total: number }) => r.total),
    [1.5, 2, 0],
  );
  // mean 7/6, sample std √(((1/3)² + (5/6)² + (7/6)²)/2) = √(13/12)
  const sd = Math.sqrt(13 / 12);
  g1.advantages.forEach((a: number, i: number) =>
    close(a, ([1.5, 2, 0][i] - 7 / 6) / (sd + 1e-4), 1e-6, `advantage ${i}`),
  );
  close(g1.mean, 7 / 6, 1e-12);
  close(g1.std, sd, 1e-12);
  // IoUs 0.5, 1, 0: m = 0.5, population Var = 1/6 → w = exp(1.2·0.5 + 1/6)
  close(g1.w, Math.exp(0.6 + 1 / 6), 1e-12);
  assert.equal(g2.advantages, [0, 0]);
  assert.is(g2.w, 1, 'a perfect group: exp(0)');
  const off = await app.inject({
    method: 'POST',
    url: '/v1/groups',
    payload: { groups: [{ completions: [HALF, BROKEN], label: GT }], config: { spatialConsistency: false } },
  });
  assert.is(off.json().groups[0].w, 1, 'L_SC off');
  const region = await app.inject({
    method: 'POST',
    url: '/v1/groups',
    payload: {
      groups: [
        {
          completions: ['<think>two</think><answer>[0, 0, 10, 10], [20, 20, 30, 30]</answer>'],
          label: [GT, [20, 20, 30, 30]],
        },
      ],
      config: { task: 'region' },
    },
  });
  assert.is(region.statusCode, 200, region.body);
  assert.equal(region.json().groups[0].rollouts[0].iou, 1);
  // one box covering both targets: eq. 4's max_k credits it to each target, one-to-one matching to one
  const both = async (matching: string) =>
    (
      await app.inject({
        method: 'POST',
        url: '/v1/groups',
        payload: {
          groups: [{ completions: ['<answer>[[0, 0, 10, 10]]</answer>'], label: [GT, [0, 0, 10, 10]] }],
          config: { task: 'region', matching },
        },
      })
    ).json().groups[0].rollouts[0].iou;
  assert.ok((await both('max')) > (await both('hungarian')), 'the matching setting reaches the reward');
  await app.close();
});

test('bad requests: 400 naming the field, 413 above the body limit, and the service keeps serving', async () => {
  const app = buildService(DEFAULT_SERVICE, { bodyLimit: 4096 });
  const post = (url: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });
  const cases: [string, unknown, RegExp][] = [
    ['/get_reward', '{"query": [', /Body is not valid JSON/],
    ['/get_reward', { prompts: [] }, /body must have required property 'query'/],
    ['/get_reward', { query: 'x', labels: [] }, /body\/query must be array/],
    ['/get_reward', { query: ['x'] }, /body\/labels is required/],
    ['/get_reward', { query: ['x', 'y'], labels: [GT] }, /body\/labels has 1 entries, body\/query 2/],
    ['/get_reward', { query: [HALF], labels: ['[0, 0, 10'] }, /body\/labels\/0: not a box/],
    [
      '/get_reward',
      { query: [HALF], labels: [[5, 5, 1, 1]] },
      /body\/labels\/0: ground-truth box \[5,5,1,1\] is invalid/,
    ],
    ['/get_reward', { query: [HALF], labels: [GT] }, /body\/labels\/0: R_pos needs the image size/],
    [
      '/get_reward',
      { query: [HALF], labels: [{ box: GT, image_size: [100, -1] }] },
      /body\/labels\/0\.image_size must be \[width, height\]/,
    ],
    ['/get_reward', { query: [HALF], labels: [[GT, GT]] }, /the grounding task needs one box per label/],
    ['/get_reward', { query: [HALF], labels: [LABEL], config: { reward: { beta: 'big' } } }, /config\.reward\.beta/],
    [
      '/get_reward',
      { query: [HALF], labels: [LABEL], config: { task: 'detect' } },
      /config\.task.*grounding, region, counting, detection, vqa/,
    ],
    [
      '/v1/groups',
      { groups: [{ completions: [], label: GT }] },
      /body\/groups\/0\/completions must NOT have fewer than 1 items/,
    ],
    ['/v1/groups', { groups: [{ completions: [HALF] }] }, /must have required property 'label'/],
  ];
  for (const [url, payload, re] of cases) {
    const res = await post(url, payload);
    assert.is(res.statusCode, 400, `${JSON.stringify(payload)} → ${res.statusCode} ${res.body}`);
    assert.match(res.json().error, re);
  }
  const big = await post('/get_reward', { query: ['x'.repeat(5000)], labels: [LABEL] });
  assert.is(big.statusCode, 413);
  // Odd completions are not bad requests: they earn zero.
  const odd = await post('/get_reward', {
    query: ['', '<answer>[1e400, 0, 1, 1]</answer>', '\u0000'.repeat(10)],
    labels: [LABEL, LABEL, LABEL],
  });
  assert.is(odd.statusCode, 200, odd.body);
  assert.equal(odd.json().rewards, [0, 0, 0]);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.json(), { ok: true });
  const cfg = await app.inject({ method: 'GET', url: '/config' });
  assert.equal(cfg.json().reward, DEFAULT_SERVICE.reward);
  await app.close();
});

test('Geo-CoT tasks in one request: labels name their task; counting, detection, VQA hand-computed', async () => {
  const app = buildService(DEFAULT_SERVICE);
  const a = (x: string) => `<think>look</think><answer>${x}</answer>`;
  const res = await app.inject({
    method: 'POST',
    url: '/get_reward',
    payload: {
      query: [a('2'), a('[[0, 0, 10, 10]]'), a('4'), a('ship'), EXACT],
      labels: [
        { task: 'counting', count: 3 }, // R_count = 1 − 1/3
        { task: 'detection', boxes: [GT, [20, 20, 30, 30]] }, // one of two found: F1 = 2/3
        { task: 'vqa', answer: '3', near: ['2', '4'] }, // a near answer: 0.6
        JSON.stringify({ task: 'vqa', answer: 'Ship' }),
        LABEL, // the server's task: grounding
      ],
    },
  });
  assert.is(res.statusCode, 200, res.body);
  const r = res.json();
  assert.equal(r.extra_logs.format, [1, 1, 1, 1, 1]);
  [2 / 3, 2 / 3, 0.6, 1, 1].forEach((v, i) => close(r.extra_logs.iou[i], v, 1e-12));
  [1 + 2 / 3, 1 + 2 / 3, 1.6, 2].forEach((v, i) => close(r.rewards[i], v, 1e-12));
  // a server started for one task reads bare labels as that task's: a count, a plain answer string
  const counting = buildService({ ...DEFAULT_SERVICE, task: 'counting', spatialConsistency: false });
  const c = await counting.inject({ method: 'POST', url: '/get_reward', payload: { query: [a('3')], labels: [3] } });
  assert.equal(c.json().rewards, [2]);
  const vqa = await app.inject({
    method: 'POST',
    url: '/get_reward',
    payload: { query: [a('there are')], labels: ['there are'], config: { task: 'vqa' } },
  });
  assert.equal(vqa.json().rewards, [2]);
  // bad labels name the field and what is allowed
  for (const [label, re] of [
    [{ task: 'count', count: 3 }, /body\/labels\/0\.task = "count": must be one of grounding, region, counting/],
    [{ task: 'counting', count: -1 }, /body\/labels\/0: a counting label is a count ≥ 0/],
    [{ task: 'vqa', answer: 3 }, /body\/labels\/0: a VQA label is an answer string/],
  ] as [unknown, RegExp][]) {
    const bad = await app.inject({ method: 'POST', url: '/get_reward', payload: { query: [a('3')], labels: [label] } });
    assert.is(bad.statusCode, 400, bad.body);
    assert.match(bad.json().error, re);
  }
  await app.close();
  await counting.close();
});

test('completionOf: the completion after the prompt, end-of-turn tokens dropped', () => {
  assert.is(completionOf(PROMPT + HALF + '<|im_end|>', PROMPT), HALF);
  assert.is(completionOf(HALF + '<|endoftext|>', undefined), HALF);
  for (const end of ['</s>', '<eos>', '<|eot_id|>', '<|im_end|><|endoftext|>\n'])
    assert.is(completionOf(HALF + end, undefined), HALF, end);
  assert.is(completionOf('other' + HALF, PROMPT), 'other' + HALF);
});

test("a label's own image size wins over the server's --image-size", async () => {
  const post = async (base: typeof DEFAULT_SERVICE, label: unknown) => {
    const app = buildService(base);
    const res = await app.inject({ method: 'POST', url: '/get_reward', payload: { query: [MISS], labels: [label] } });
    await app.close();
    assert.is(res.statusCode, 200, res.body);
    return res.json();
  };
  const big = mergeConfig(DEFAULT_SERVICE, { imageSize: [1000, 1000] });
  const own = await post(big, { box: GT, image_size: [12, 12] });
  const small = await post(DEFAULT_SERVICE, { box: GT, image_size: [12, 12] });
  const server = await post(big, GT);
  assert.equal(own, small);
  assert.not.equal(own, server);
});

const python = spawnSync('python3', ['-c', 'import requests'], { encoding: 'utf8' });
test("npm run serve over HTTP: the documented Python clients (TRL's reward function, OpenRLHF's request)", async () => {
  if (python.status !== 0) {
    console.log('  (skipped: python3 with requests is not installed)');
    return;
  }
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'scripts/serve.ts'), '--port', '0', '--beta', '0'],
    { cwd: PROJECT_ROOT },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d) => {
        out += d;
        const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
        if (m) resolve(m[1]);
      });
      server.stderr.on('data', (d) => (out += d));
      server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const data = {
      half: HALF,
      exact: EXACT,
      gt: GT,
      prompt: PROMPT,
      label: LABEL,
      url,
      examples: join(PROJECT_ROOT, 'examples'),
    };
    const driver = `
import json, os, sys, requests
d = json.loads(os.environ["DRIVER_DATA"])
sys.path.insert(0, d["examples"])
import rsground_reward as rr
completions = [[{"role": "assistant", "content": d["half"]}], d["exact"]]
trl = rr.rsground_reward(
    prompts=["p", "p"], completions=completions, solution=[d["gt"], d["gt"]], image_size=[[100, 100], None]
)
# OpenRLHF's remote reward call: requests.post(url, json={query, prompts, labels}), then response["rewards"]
body = {"query": [d["prompt"] + d["exact"] + "<|im_end|>"], "prompts": [d["prompt"]], "labels": [d["label"]]}
r = requests.post(url=d["url"] + "/get_reward", json=body, headers={"Content-Type": "application/json"}, timeout=180)
r.raise_for_status()
groups = rr.group_weights([([d["half"], d["exact"]], d["gt"], None)])
print(json.dumps({"trl": trl, "openrlhf": r.json()["rewards"], "groups": groups}))
`;
    const py = spawnSync('python3', ['-c', driver], {
      encoding: 'utf8',
      env: { ...process.env, RSG_REWARD_URL: url, DRIVER_DATA: JSON.stringify(data) },
    });
    assert.is(py.status, 0, py.stderr);
    const got = JSON.parse(py.stdout);
    assert.equal(got.trl, [1.5, 2]);
    assert.equal(got.openrlhf, [2]);
    const [adv, w] = got.groups[0];
    assert.ok(adv[0] < 0 && adv[1] > 0);
    close(w, Math.exp(1.2 * 0.25 + 0.0625), 1e-12); // IoUs 0.5, 1: m = 0.75, Var = 1/16
  } finally {
    server.kill('SIGTERM');
  }
});

test.run();
