import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selectBackend } from '../lib/backend';
import { rejects } from './helpers';

test('an explicit backend that is not installed is a clear error; unknown names list the choices', async () => {
  // tfjs-node is not installed here (its install downloads libtensorflow): the alias in package.json must not fool the
  // check.
  await rejects(
    () => selectBackend('tensorflow'),
    /backend "tensorflow" is not available: install @tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node/,
  );
  await rejects(() => selectBackend('gpu'), /unknown backend "gpu"; choose from: auto, tensorflow, blas, wasm, cpu/);
});

test('auto picks a working backend and says which', async () => {
  const b = await selectBackend('auto');
  assert.ok(['tensorflow', 'blas', 'wasm', 'cpu'].includes(b.name), b.name);
  assert.ok(b.detail.length > 0);
});

test.run();
