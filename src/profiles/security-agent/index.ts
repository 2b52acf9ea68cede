export * from './iso-duration.js';
export * from './render.js';
export * from './rules.js';
export * from './settings.js';
export * from './twin-configuration.js';
