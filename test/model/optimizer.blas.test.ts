// test/model/optimizer.test.ts again on the blas backend (AdamW as one native call over every
// parameter, in place): the same oracle must hold there.
import { test } from 'uvu';
import { blasAvailable, blasUnavailableReason } from '../../lib/native/addon';

if (blasAvailable()) {
  process.env.RSG_TEST_BACKEND = 'blas';
  await import('./optimizer.test');
} else {
  test.skip(`blas unavailable: ${blasUnavailableReason()}`, () => {});
  test.run();
}
