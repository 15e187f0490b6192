// `@baton/core/job`: what runs a job outside the scheduler, in a job process or a
// launcher's worker thread: read its files, import and run its task, write its
// markers. No scheduler, settings or experiments, so a thread that runs jobs
// starts sooner (the threads launcher's threads import this, not `@baton/core`).
// `@baton/core` exports the same values.
export { createLogger, setLogSink } from '../logger.ts';
export type { Logger } from '../logger.ts';
export { decodeParamValue } from '../task/paramValues.ts';
export { isTask } from '../task/defineTask.ts';
export type { Task } from '../task/defineTask.ts';
export { importUserModule } from '../util/importUserModule.ts';
export { jobFile } from './jobFiles.ts';
export { failureMessage } from './failureMessage.ts';
export type { JobParamsFile } from './jobParamsFile.ts';
export { writeDoneMarkerSync, writeFailedMarkerSync } from '../scheduler/jobMarkers.ts';
export type { FailureInfo } from '../types.ts';
