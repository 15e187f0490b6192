// Library code logs here, never to the console. Debug detail goes to named
// `debug` channels (DEBUG=baton:*); info/warn/error go to a sink the CLI installs.
import type { Debugger, Debug } from 'debug';
import type { LoggerLike } from './types.ts';
import { lazyModule } from './util/lazyModule.ts';

/**
 * The `debug` package, required when debug output is first on: importing @baton/core (every
 * function task's job process does) loads nothing for channels nobody listens to.
 */
const loadDebug = lazyModule<Debug>('debug');
/** Whether some channel may print: DEBUG is set, or enableDebug() was called. */
let debugOn = Boolean(process.env.DEBUG);

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  level: LogLevel;
  namespace: string;
  message: string;
  args: unknown[];
}

export type LogSink = (record: LogRecord) => void;

let sink: LogSink | undefined;

/** Installs the function that receives info, warn and error records (the CLI does). */
export function setLogSink(next: LogSink | undefined): void {
  sink = next;
}

/** Turns on debug output for the given channels (e.g. `baton:*`). */
export function enableDebug(namespaces = 'baton:*'): void {
  loadDebug().enable(namespaces);
  debugOn = true;
}

export type Logger = LoggerLike & { child(name: string): Logger };

export function createLogger(namespace: string): Logger {
  let channel: Debugger | undefined;
  const debug = (message: string, ...args: unknown[]) => {
    if (!debugOn) return;
    channel ??= loadDebug()(namespace);
    channel(message, ...args);
  };
  const emit = (level: LogLevel, message: string, args: unknown[]) => {
    debug(`[${level}] ${message}`, ...args);
    if (level !== 'debug') sink?.({ level, namespace, message, args });
  };
  return {
    debug: (message, ...args) => debug(message, ...args),
    info: (message, ...args) => emit('info', message, args),
    warn: (message, ...args) => emit('warn', message, args),
    error: (message, ...args) => emit('error', message, args),
    child: (name) => createLogger(`${namespace}:${name}`),
  };
}
