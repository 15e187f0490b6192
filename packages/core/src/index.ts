export type * from './types.ts';
export { BatonError, UserInputError, ValidationError, didYouMean, isBatonError } from './errors.ts';
export type { Issue, BatonErrorOptions } from './errors.ts';
export { createLogger, setLogSink, enableDebug } from './logger.ts';
export type { Logger, LogRecord, LogSink, LogLevel } from './logger.ts';
export { definePlugin, isPlugin } from './plugin/definePlugin.ts';
export { JOB_FILES, jobDirectory, jobFile } from './job/jobFiles.ts';
