/** The public API a notebook imports: loaders, world, metrics, rewards, training and evaluation entry points. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import * as api from '../lib/index';

test('lib/index exports every entry point a notebook needs', () => {
  const wanted = [
    'iou',
    'parseAnswer',
    'parseBoxes',
    'contourMetrics',
    'oracleMask',
    'regionMetrics',
    'detectionF1',
    'meanAveragePrecision',
    'traceStructure',
    'faithfulness',
    'repetitionRate',
    'matchedIoU',
    'groundingReward',
    'positionalReward',
    'groupAdvantages',
    'spatialConsistencyWeight',
    'groundingMetrics',
    'bootstrapCI',
    'generateScene',
    'groundingSplit',
    'loadDiorRsvg',
    'loadVrsbenchVg',
    'loadRrsisD',
    'loadDataset',
    'toImagePixels',
    'letterbox',
    'fitToPolicy',
    'exportSplit',
    'renderSample',
    'selectBackend',
    'trainSft',
    'trainGrpo',
    'runStage',
    'evaluateStage',
    'evaluatePolicy',
    'scorePredictions',
    'buildService',
  ];
  const missing = wanted.filter((k) => typeof (api as Record<string, unknown>)[k] !== 'function');
  assert.equal(missing, []);
  assert.type(api.Policy.create, 'function');
});

test('through the public API: a real benchmark split loads, fits the policy input and scores', async () => {
  const root = join(import.meta.dirname, 'fixtures', 'vrsbench');
  const samples = await api.loadDataset({ dataset: 'vrsbench-vg', root, split: 'val' });
  assert.is(samples.length, 3);
  const fitted = await api.fitToPolicy(samples, 64);
  assert.ok(fitted.every((s) => s.image.width === 64 && s.original));
  const s = api.scoreOne(samples[0], { id: samples[0].id, line: 1, box: [100, 200, 300, 500] }, 'normalized-1000', {});
  assert.is(s.iou, 1);
});

test.run();
