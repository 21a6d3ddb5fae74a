/**
 * The public API of rsground-lab: what a notebook or a script imports.
 *
 * - geometry, answers, rewards (SPEC §2–§4), metrics and statistics; regions, masks and contours (SPEC §6.2);
 *   detection F1 and mAP@0.5 (SPEC §6.3); Geo-CoT trace structure, faithfulness and repetition;
 * - data: the mini world and its splits, the real-benchmark loaders, every dataset by name,
 *   box conventions and the letterbox, the export for real VLMs, drawing;
 * - models and training: the policy, backends, SFT and GRPO, the stage pipeline;
 * - evaluation: of a policy, and of a real model's predictions (`npm run score`);
 * - the reward service (`npm run serve`).
 */
export * from './boxes';
export * from './answer';
export * from './rewards';
export * from './grpo';
export * from './metrics';
export * from './regions';
export * from './detection';
export * from './faithfulness';
export * from './stats';
export * from './rng';
export { maxWeightAssignment } from './hungarian';

// data
export type { GroundingSample, CountingSample, RegionSample, SampleImage, OriginalFrame } from './data/samples';
export { generateScene, DEFAULT_WORLD, OBJECT_CLASSES, type WorldConfig, type Scene } from './data/world';
export {
  SPLIT_NAMES,
  GROUNDING_SPLITS,
  OOD_SPLITS,
  splitSpec,
  groundingSample,
  groundingSplit,
  countingSplit,
  regionSplit,
} from './data/splits';
export { loadDiorRsvg, loadVrsbenchVg, loadRrsisD } from './data/loaders';
export { DATASETS, REAL_DATASETS, loadDataset, type DatasetName, type DatasetRef } from './data/datasets';
export {
  BOX_CONVENTIONS,
  smartResize,
  toImagePixels,
  fromImagePixels,
  letterbox,
  toLetterbox,
  fromLetterbox,
  type BoxConvention,
  type Letterbox,
} from './data/conventions';
export { fitSample, fitToPolicy } from './data/fit';
export { EXPORT_FORMATS, exportSplit, loadExported, groundingPrompt } from './data/export';
export { imageRgb, decodeImage } from './data/images';
export { renderImage, renderSample } from './data/render';

// models, training, the pipeline
export { Policy } from './model/policy';
export { BACKENDS, selectBackend } from './backend';
export { trainSft, DEFAULT_SFT, type SftConfig } from './train-sft';
export { trainGrpo, DEFAULT_GRPO, type GrpoConfig } from './train-grpo';
export {
  runStage,
  runLineage,
  evaluateStage,
  samplingEvaluateStage,
  loadStagePolicy,
  stageDir,
  type StageSpec,
  type DataRef,
} from './pipeline';

// evaluation
export { evaluatePolicy, samplingEvaluation, type Evaluation } from './evaluate';
export {
  readPredictions,
  scorePredictions,
  scoreOne,
  summarize,
  breakdown,
  rewardTerms,
  compareScores,
  type SampleScore,
} from './score';

// the reward service
export { buildService, DEFAULT_SERVICE, type ServiceConfig } from './service';
