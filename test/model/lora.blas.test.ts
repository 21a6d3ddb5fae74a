// test/model/lora.test.ts again on the blas backend (OpenBLAS matmuls and the native inference decoder).
import { test } from 'uvu';
import { blasAvailable, blasUnavailableReason } from '../../lib/native/addon';

if (blasAvailable()) {
  process.env.RSG_TEST_BACKEND = 'blas';
  await import('./lora.test');
} else {
  test.skip(`blas unavailable: ${blasUnavailableReason()}`, () => {});
  test.run();
}
