import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applySet, parseSeeds, validateCommon } from '../../experiments/config';
import { SCALES } from '../../experiments/scales';
import { resolveConfig } from '../../experiments/runner';
import { DEFAULT_GRPO } from '../../lib/train-grpo';

const D = SCALES.default;

test('presets are complete, valid, and quick/full differ from default only where they say', () => {
  for (const s of Object.values(SCALES)) validateCommon(s);
  assert.equal(SCALES.quick.arch, D.arch);
  assert.is(SCALES.quick.grpo.lr, D.grpo.lr);
  assert.is(SCALES.full.arch.dModel, 128);
  assert.equal(Object.keys(D.grpo).sort(), Object.keys(DEFAULT_GRPO).sort()); // every GRPO field is present
});

test('--set reaches nested keys by dotted path, typed by the field it sets', () => {
  const c = applySet(applySet(applySet(D, 'grpo.reward.beta=0.2'), 'grpo.steps=300'), 'cot=geocot');
  assert.is(c.grpo.reward.beta, 0.2);
  assert.is(c.grpo.steps, 300);
  assert.is(c.cot, 'geocot');
  assert.is(D.grpo.steps, SCALES.default.grpo.steps); // the preset is not mutated
  assert.equal(applySet(D, 'seeds=[4,5]').seeds, [4, 5]);
});

test('--set errors name the key and what is allowed; nothing is spread into stray keys', () => {
  assert.throws(() => applySet(D, 'grpo.lrr=1'), /unknown key "grpo.lrr" \(allowed here: steps, queriesPerStep, /);
  assert.throws(() => applySet(D, 'grpo.reward.beta'), /expects key=value/);
  assert.throws(() => applySet(D, 'arch.dModel=abc'), /"abc" is not valid JSON \(arch.dModel is a number\)/);
  assert.throws(() => applySet(D, 'grpo.spatialConsistency=1'), /grpo.spatialConsistency is a boolean, got number 1/);
  assert.throws(
    () => applySet(D, 'grpo.steps.x=1'),
    /"grpo.steps" is not a config section \(sections of grpo: reward, consistency\)/,
  );
  assert.throws(() => applySet(D, 'seeds=1'), /seeds is a list, got number 1/);
  assert.throws(() => validateCommon(applySet(D, 'grpo.lr=-0.01')), /grpo.lr = -0.01: must be > 0/);
  assert.throws(
    () => validateCommon(applySet(D, 'grpo.reward.aux="iou2"')),
    /grpo.reward.aux = "iou2": must be one of: none, pos, giou, diou, center/,
  );
  assert.throws(() => validateCommon(applySet(D, 'grpo.epsilon=1')), /grpo.epsilon = 1: must be in \(0, 1\)/);
  assert.throws(() => validateCommon(applySet(D, 'seeds=[]')), /seeds = \[\]: needs at least one seed/);
});

test('--seeds parses strictly', () => {
  assert.equal(parseSeeds('1,2,3'), [1, 2, 3]);
  assert.equal(parseSeeds(' 7 '), [7]);
  for (const bad of ['1,2,', '', '1,,2', '-1', '1.5', 'a', '1,1']) assert.throws(() => parseSeeds(bad), /--seeds/);
});

test('an experiment config: preset, then the experiment, then --seeds and --set, validated', () => {
  const { config } = resolveConfig('fig6-extended', { scale: 'quick', seeds: [2, 3], set: ['grpo.lr=0.0002'] });
  assert.is(config.grpo.steps, 3 * SCALES.quick.grpo.steps); // fig6 trains 3× longer
  assert.equal(config.seeds, [2, 3]);
  assert.is(config.grpo.lr, 0.0002);
  assert.throws(() => resolveConfig('table1', { set: ['grpo.group=1'] }), /grpo.group = 1: must be an integer ≥ 2/);
  assert.throws(() => resolveConfig('tabel1'), /unknown experiment "tabel1"; choose from: /);
});

test('GRPO stages evaluate val only at the end, except where an experiment plots the val curve', () => {
  for (const name of ['controls', 'table1', 'table3-components', 'sweep-lambda', 'geocot', 'few-shot'])
    assert.is(resolveConfig(name).config.grpo.evalEvery, 0, name);
  const fig6 = resolveConfig('fig6-extended').config.grpo;
  assert.equal([fig6.steps, fig6.evalEvery], [1200, 100]); // 12 points, as before the scales stopped evaluating midway
  assert.is(resolveConfig('learning').config.grpo.evalEvery, 100);
  assert.is(resolveConfig('learning-knobs', { scale: 'quick' }).config.grpo.evalEvery, 10);
});

test.run();
