// Test helpers for code built on @promax/tensor (import from '@promax/tensor/test').

export type { GradCheckOptions, GradCheckReport } from './grad-check.js';
export { checkGradients } from './grad-check.js';
export type { F64 } from './reference.js';
export { evaluateReference } from './reference.js';
