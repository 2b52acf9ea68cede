export * from './tiers.js';
export * from './token-bucket.js';
