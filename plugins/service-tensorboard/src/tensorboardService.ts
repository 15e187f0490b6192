// TensorBoard as a service: a real `tensorboard` over a log folder, on a free port of
// 127.0.0.1, under the path the monitor proxies it at (/services/<id>/), ready once its
// data API answers, stopped with the experiment unless kept.
import { mkdir } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { BatonError, ProcessWebService, SERVICE_HOST, servicePath, type ProcessLaunch } from '@baton/core';

/** The environment variable that names the tensorboard executable (e.g. a venv's). */
export const TENSORBOARD_ENV = 'BATON_TENSORBOARD';

export interface TensorBoardOptions {
  /** The service's id (default `tensorboard`); its URL path is `/services/<id>/`. */
  id?: string;
  /** What the monitor shows (default: "TensorBoard on <logdir>"). */
  description?: string;
  /** Folder of the event files; relative to the working directory (default: the experiment's run folder). */
  logdir?: string;
  /** The tensorboard command (default: $BATON_TENSORBOARD, else `tensorboard` on the PATH). */
  command?: readonly string[];
  /** Seconds between two scans of the log folder (TensorBoard's default: 5). */
  reloadInterval?: number;
  /** More arguments for tensorboard, e.g. ['--load_fast=false']. */
  args?: readonly string[];
  /** Leave it running when the experiment ends (default: stopped with it). */
  keep?: boolean;
  /** How long it may take to serve (default 60 s). */
  startTimeoutMs?: number;
  /** Receives its output (default: `<run folder>/services/<id>.log`). */
  logFile?: string;
  /** Where $BATON_TENSORBOARD is read (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Where the tensorboard command comes from, to say so when it is missing. */
export type TensorBoardCommandSource = 'command' | 'env' | 'path';

/** The tensorboard command: the `command` option, else $BATON_TENSORBOARD, else `tensorboard`. */
export function tensorboardCommand(options: { command?: readonly string[]; env?: NodeJS.ProcessEnv }): { argv: readonly string[]; source: TensorBoardCommandSource } {
  const { command, env = process.env } = options;
  if (command && command.length > 0) return { argv: command, source: 'command' };
  const fromEnv = env[TENSORBOARD_ENV];
  if (fromEnv) return { argv: [fromEnv], source: 'env' };
  return { argv: ['tensorboard'], source: 'path' };
}

/** The full tensorboard command line for one start. */
export function tensorboardArgv(options: {
  command: readonly string[];
  logdir: string;
  port: number;
  /** The URL path it serves under, e.g. `/services/tb/`. */
  path: string;
  reloadInterval?: number;
  args?: readonly string[];
}): string[] {
  const { command, logdir, port, path, reloadInterval, args = [] } = options;
  return [
    ...command,
    '--logdir',
    logdir,
    '--host',
    SERVICE_HOST,
    '--port',
    String(port),
    // Without the trailing slash: TensorBoard redirects /services/tb to /services/tb/ itself.
    '--path_prefix',
    path.replace(/\/+$/, ''),
    ...(reloadInterval === undefined ? [] : ['--reload_interval', String(reloadInterval)]),
    ...args,
  ];
}

/** The error for a tensorboard command that is not there, saying how to install it. */
export function missingTensorBoard(options: { id: string; command: string; source: TensorBoardCommandSource }): BatonError {
  const { id, command, source } = options;
  const what = {
    command: `the command "${command}" given as \`command\` does not exist or is not executable`,
    env: `$${TENSORBOARD_ENV} is "${command}", which does not exist or is not executable`,
    path: `the command "tensorboard" is not on the PATH`,
  }[source];
  return new BatonError(`TensorBoard is not installed: ${what} (service "${id}")`, {
    hint:
      'install it in a virtual environment: `python3 -m venv ~/tb && ~/tb/bin/pip install tensorboard` ' +
      `(TensorFlow is not needed), then set ${TENSORBOARD_ENV}=~/tb/bin/tensorboard, or give the service ` +
      '`command: [~/tb/bin/tensorboard]` in the settings (tensorboard({ command: [...] }) in code), or put ~/tb/bin on the PATH',
  });
}

export class TensorBoardService extends ProcessWebService {
  readonly #options: TensorBoardOptions;

  constructor(options: TensorBoardOptions = {}) {
    const id = options.id ?? 'tensorboard';
    const logdir = options.logdir === undefined ? undefined : resolve(options.logdir);
    super({
      id,
      description: options.description ?? `TensorBoard on ${logdir ?? 'the run folder'}`,
      keep: options.keep,
      startTimeoutMs: options.startTimeoutMs,
      logFile: options.logFile,
    });
    this.#options = { ...options, logdir };
  }

  /** The folder it shows: the one given, else the run folder of the experiment it is attached to. */
  get logdir(): string | undefined {
    if (this.#options.logdir !== undefined) return this.#options.logdir;
    const context = this.context;
    return context?.local ? context.runPath : undefined;
  }

  /** The tensorboard command it runs (see tensorboardCommand). */
  get command(): readonly string[] {
    return tensorboardCommand(this.#options).argv;
  }

  protected override async launch(port: number): Promise<ProcessLaunch> {
    const logdir = this.#logdirToServe();
    // TensorBoard shows a folder that appears later, but says nothing about a typo: make it now.
    await mkdir(logdir, { recursive: true });
    const path = servicePath(this.id);
    return {
      argv: tensorboardArgv({ command: this.command, logdir, port, path, reloadInterval: this.#options.reloadInterval, args: this.#options.args }),
      path,
      // With a path prefix, `/` is a 404; the data API answers 200 once TensorBoard serves.
      readyPath: `${path}data/runs`,
    };
  }

  protected override isReady(status: number): boolean {
    return status === 200;
  }

  protected override missingCommand(command: string): BatonError {
    return missingTensorBoard({ id: this.id, command, source: tensorboardCommand(this.#options).source });
  }

  #logdirToServe(): string {
    const logdir = this.logdir;
    if (logdir !== undefined) return isAbsolute(logdir) ? logdir : resolve(logdir);
    const context = this.context;
    if (context && !context.local) {
      throw new BatonError(`TensorBoard (service "${this.id}") needs a \`logdir\`: the workspace of experiment "${context.experiment}" is on another host, and TensorBoard runs on this one`, {
        hint: 'give `logdir:` a folder of this machine (where the event files are, or are copied to)',
      });
    }
    throw new BatonError(`TensorBoard (service "${this.id}") has no log folder`, {
      hint: 'give it a `logdir`, or start it through an experiment (`await xp.useService(tensorboard())`) to show the run folder',
    });
  }
}

/** A TensorBoard service for `xp.useService(...)` / `xp.addService(...)`. */
export function tensorboard(options: TensorBoardOptions = {}): TensorBoardService {
  return new TensorBoardService(options);
}
