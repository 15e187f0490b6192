// Entry of the threads launcher's worker threads when this plugin runs from its
// TypeScript sources (inside the monorepo: tests, benchmarks): Node 20 does not
// pass `--import` hooks on to worker threads, so tsx is registered here before
// the worker module is imported; the pool also gives these threads the
// `@baton/source` condition, so `@baton/core` resolves to its sources. Built,
// the launcher points tinypool at threadWorker.js directly, this file is not
// used, and a thread loads tsx only for a task module written in TypeScript.
import { register } from 'tsx/esm/api';

register();
const { default: runThreadJobs } = await import('./threadWorker.ts');
export default runThreadJobs;
