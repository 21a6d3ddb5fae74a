/** The public API of rsground-lab. */
export * from './boxes';
export * from './answer';
export * from './rewards';
export * from './grpo';
export * from './metrics';
export * from './stats';
export * from './rng';
export { maxWeightAssignment } from './hungarian';
