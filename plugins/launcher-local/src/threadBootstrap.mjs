// Entry of the threads launcher's worker threads when this plugin runs from its
// TypeScript sources (inside the monorepo): Node 20 does not pass `--import`
// hooks on to worker threads, so tsx is registered here before the worker
// module is imported. Built, the launcher points tinypool at threadWorker.js
// directly and this file is not used.
import { register } from 'tsx/esm/api';

register();
const { default: runThreadJob } = await import('./threadWorker.ts');
export default runThreadJob;
