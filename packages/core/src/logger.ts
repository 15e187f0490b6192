// Library code logs here, never to the console. Debug detail goes to named
// `debug` channels (DEBUG=baton:*); info/warn/error go to a sink the CLI installs.
import createDebug from 'debug';
import type { LoggerLike } from './types.ts';

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
  createDebug.enable(namespaces);
}

export type Logger = LoggerLike & { child(name: string): Logger };

export function createLogger(namespace: string): Logger {
  const debug = createDebug(namespace);
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
