/**
 * npm run serve -- [--port 8000] [--host 127.0.0.1] [--aux pos] [--beta 0.1] [--alpha 2.5] ...
 * The rewards as an HTTP service for external GRPO trainers (lib/service.ts). Prints one line
 * `listening on http://HOST:PORT` once ready.
 */
import { Command, InvalidArgumentError } from 'commander';
import { buildService, DEFAULT_SERVICE, mergeConfig, TASKS } from '../lib/service';
import { AUX_REWARDS } from '../lib/rewards';
import { ADVANTAGE_SCALES } from '../lib/grpo';

const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new InvalidArgumentError(`--${name} must be a number, got "${v}"`);
  return n;
};
const oneOf = (name: string, allowed: readonly string[]) => (v: string) => {
  if (!allowed.includes(v))
    throw new InvalidArgumentError(`--${name} ${v} is invalid (allowed: ${allowed.join(', ')})`);
  return v;
};

const program = new Command('npm run serve')
  .description(
    'Serve the rewards (R_format, R_IoU, R_pos and alternatives, region rewards), group advantages and w over HTTP.',
  )
  .option('--port <n>', 'port', num('port'), 8000)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--task <task>', TASKS.join(' | '), oneOf('task', TASKS), 'grounding')
  .option(
    '--aux <aux>',
    `the β term of eq. 5: ${AUX_REWARDS.join(' | ')}`,
    oneOf('aux', AUX_REWARDS),
    DEFAULT_SERVICE.reward.aux,
  )
  .option('--beta <β>', 'β in eq. 5', num('beta'), DEFAULT_SERVICE.reward.beta)
  .option('--alpha <α>', 'α of R_pos (eq. 2)', num('alpha'), DEFAULT_SERVICE.reward.alpha)
  .option('--lambda-m <λm>', 'λm of w (eq. 8)', num('lambda-m'), DEFAULT_SERVICE.consistency.lambdaM)
  .option('--lambda-v <λv>', 'λv of w (eq. 8)', num('lambda-v'), DEFAULT_SERVICE.consistency.lambdaV)
  .option('--no-spatial-consistency', 'w = 1 for every group')
  .option('--advantage-scale <s>', ADVANTAGE_SCALES.join(' | '), oneOf('advantage-scale', ADVANTAGE_SCALES), 'std')
  .option('--matching <m>', 'region task: max (eq. 4) | hungarian', oneOf('matching', ['max', 'hungarian']), 'max')
  .option('--image-size <WxH>', 'image size for labels that carry none (R_pos needs one)')
  .option('--body-limit <bytes>', 'largest request body (413 above)', num('body-limit'), 16 * 1024 * 1024)
  .showHelpAfterError('(npm run serve -- --help for the options)');

program.parse();
const o = program.opts<{
  port: number;
  host: string;
  task: (typeof TASKS)[number];
  aux: (typeof AUX_REWARDS)[number];
  beta: number;
  alpha: number;
  lambdaM: number;
  lambdaV: number;
  spatialConsistency: boolean;
  advantageScale: 'std' | 'none';
  matching: 'max' | 'hungarian';
  imageSize?: string;
  bodyLimit: number;
}>();
try {
  let imageSize: [number, number] | null = null;
  if (o.imageSize) {
    const m = /^(\d+)x(\d+)$/.exec(o.imageSize);
    if (!m) throw new Error(`--image-size expects WIDTHxHEIGHT, got "${o.imageSize}"`);
    imageSize = [Number(m[1]), Number(m[2])];
  }
  const cfg = mergeConfig(
    DEFAULT_SERVICE,
    {
      task: o.task,
      reward: { aux: o.aux, beta: o.beta, alpha: o.alpha },
      consistency: { lambdaM: o.lambdaM, lambdaV: o.lambdaV },
      spatialConsistency: o.spatialConsistency,
      advantageScale: o.advantageScale,
      matching: o.matching,
      imageSize,
    },
    'flags',
  );
  const app = buildService(cfg, { bodyLimit: o.bodyLimit });
  const address = await app.listen({ port: o.port, host: o.host });
  console.log(`listening on ${address.replace('[::1]', 'localhost')}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
