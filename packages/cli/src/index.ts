export { createProgram } from './program.ts';
export { reportError } from './reportError.ts';
