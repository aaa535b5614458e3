export * from './policy.ts';
export * from './code.ts';
export * from './usability.ts';
export * from './throttle.ts';
export * from './graph.ts';
