// test/policy.test.ts again on the blas backend (OpenBLAS matmuls, native element-wise kernels and,
// for sampling and the reference pass, lib/infer.ts): the same assertions must hold there.
import { test } from 'uvu';
import { blasAvailable, blasUnavailableReason } from '../../lib/native/addon';

if (blasAvailable()) {
  process.env.RSG_TEST_BACKEND = 'blas';
  await import('./network.test');
} else {
  test.skip(`blas unavailable: ${blasUnavailableReason()}`, () => {});
  test.run();
}
