// A web service that is a process of this machine serving HTTP on a port it is given
// (`python3 -m http.server {port}`, TensorBoard, a dashboard): a free port of 127.0.0.1,
// ready once it answers HTTP, stopped with its whole process group.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { findFreePort, waitForHttp } from './httpReadiness.ts';
import type { ServiceSummary } from './service.ts';
import { findExecutable, ServiceProcess } from './serviceProcess.ts';
import { WebService, type WebServiceStarted } from './webService.ts';
import type { ServiceOptions } from './service.ts';

/** Services bind this address only: the monitor's proxy (or an SSH tunnel) is the way in from elsewhere. */
export const SERVICE_HOST = '127.0.0.1';

export interface ProcessWebServiceOptions extends ServiceOptions {
  /**
   * The command and its arguments; `{port}` is replaced by the free port it must serve on,
   * `{host}` by 127.0.0.1, `{id}` by the service's id. Subclasses may build it in `launch`.
   */
  command?: readonly string[];
  /** Path of the service's URL, e.g. `/services/tb/` (default `/`). */
  path?: string;
  /** Path the readiness check asks (default: `path`). */
  readyPath?: string;
  /** Working directory of the process (default: the current one). */
  cwd?: string;
  /** Added to the process's environment; `{port}` is replaced in the values too. */
  env?: Record<string, string>;
  /** How long it may take to answer HTTP (default 60 s). */
  startTimeoutMs?: number;
  /** How long it may take to exit after SIGTERM before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
  /**
   * Receives the process's output. Default: `<run folder>/services/<id>.log` when attached
   * to an experiment whose workspace is on this machine, else a file in the OS temp folder.
   */
  logFile?: string;
}

/** How to start the process for one attempt, on `port`. */
export interface ProcessLaunch {
  argv: readonly string[];
  /** Path of the URL, starting with `/`. */
  path: string;
  readyPath: string;
  cwd?: string;
  env?: Record<string, string>;
}

export interface ProcessServiceSummary extends ServiceSummary {
  /** The process (and process group) id while it runs. */
  pid: number | undefined;
  /** Where its output goes. */
  logFile: string | undefined;
}

/** Attempts when the port picked was taken by someone else in between. */
const PORT_ATTEMPTS = 3;
const PORT_IN_USE = /address already in use|already in use|EADDRINUSE|could not bind/i;

export class ProcessWebService extends WebService {
  readonly #options: ProcessWebServiceOptions;
  #process: ServiceProcess | undefined;
  #stopping = false;
  #logFile: string | undefined;
  protected readonly logger = createLogger('baton:service');

  constructor(options: ProcessWebServiceOptions) {
    super(options);
    this.#options = options;
  }

  /** The process's id (its process group's) while it runs. */
  get pid(): number | undefined {
    return this.#process?.exit ? undefined : this.#process?.pid;
  }

  /** Where the process's output goes, once started. */
  get logFile(): string | undefined {
    return this.#logFile;
  }

  override toJSON(): ProcessServiceSummary {
    return { ...super.toJSON(), pid: this.pid, logFile: this.#logFile };
  }

  /** The command for one attempt; subclasses build theirs (TensorBoard's options). */
  protected async launch(port: number): Promise<ProcessLaunch> {
    const { command, path = '/', readyPath, cwd, env } = this.#options;
    if (!command || command.length === 0) {
      throw new BatonError(`Service "${this.id}" has no command`, { hint: 'give `command: [program, arg, ...]` with "{port}" where the port goes' });
    }
    const fill = (text: string) => fillPlaceholders({ text, port, id: this.id });
    return {
      argv: command.map(fill),
      path,
      readyPath: readyPath ?? path,
      cwd,
      env: env && Object.fromEntries(Object.entries(env).map(([name, value]) => [name, fill(value)])),
    };
  }

  /** The error for a command that is not installed; subclasses say how to install theirs. */
  protected missingCommand(command: string): BatonError {
    return new BatonError(`Service "${this.id}" cannot start: the command "${command}" is not installed (not found${command.includes('/') ? '' : ' on PATH'})`, {
      hint: 'install it, or give its full path as the first element of `command`',
    });
  }

  /** Whether an HTTP status from `readyPath` means the service serves (default: any below 500). */
  protected isReady(status: number): boolean {
    return status < 500;
  }

  protected override async doStart(): Promise<WebServiceStarted> {
    this.#stopping = false;
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort({ host: SERVICE_HOST });
      const plan = await this.launch(port);
      const [command, ...args] = plan.argv;
      if (command === undefined) throw this.missingCommand('');
      const executable = await findExecutable({ command, cwd: plan.cwd, path: plan.env?.PATH });
      if (!executable) throw this.missingCommand(command);
      const logFile = (this.#logFile = this.#options.logFile ?? this.#defaultLogFile());
      const started = await ServiceProcess.start({ argv: [executable, ...args], cwd: plan.cwd, env: plan.env, logFile, outlive: this.keep }).catch(
        (error: unknown) => {
          throw new BatonError(`Service "${this.id}" could not start "${command}": ${(error as Error).message}`, {
            where: plan.cwd ? `working directory ${plan.cwd}` : undefined,
            hint: 'check the command and its working directory',
            cause: error,
          });
        },
      );
      const base = `http://${SERVICE_HOST}:${port}`;
      const readiness = await waitForHttp({
        url: `${base}${plan.readyPath}`,
        timeoutMs: this.#options.startTimeoutMs ?? 60_000,
        exited: started.exited,
        accept: (status) => this.isReady(status),
      });
      if (readiness.ready) {
        this.logger.debug('service %s (pid %d) answers on %s after %d ms', this.id, started.pid, base, readiness.afterMs);
        this.#process = started;
        void started.exited.then((exit) => this.#exitedOnItsOwn(started, exit));
        return { url: `${base}${plan.path}` };
      }
      await started.stop({ graceMs: 2000 });
      const output = await started.outputTail();
      if (readiness.reason === 'exited' && PORT_IN_USE.test(output) && attempt < PORT_ATTEMPTS) {
        this.logger.debug('service %s: port %d was taken meanwhile; another one', this.id, port);
        continue;
      }
      const what =
        readiness.reason === 'exited'
          ? `"${command}" exited (${describeExit(started.exit)}) before it answered on ${base}${plan.readyPath}`
          : `"${command}" did not answer on ${base}${plan.readyPath} within ${Math.round(readiness.afterMs / 1000)} s (last: ${readiness.lastAnswer}); it was stopped`;
      throw new BatonError(`Service "${this.id}" did not start: ${what}${quoteOutput(output)}`, {
        where: logFile,
        hint:
          readiness.reason === 'exited'
            ? 'its output above says why; run the command by hand to see it fail'
            : 'check that the command serves HTTP on the port it is given ("{port}"), or allow it more time (startTimeout)',
      });
    }
  }

  protected override async doStop(): Promise<void> {
    const running = this.#process;
    this.#stopping = true;
    if (!running) return;
    await running.stop({ graceMs: this.#options.stopTimeoutMs ?? 10_000 });
    this.logger.debug('service %s (pid %d) stopped', this.id, running.pid);
    this.#process = undefined;
  }

  async #exitedOnItsOwn(child: ServiceProcess, exit: { code: number | null; signal: string | null }): Promise<void> {
    if (this.#stopping || this.#process !== child) return;
    const output = await child.outputTail();
    this.markFailed(
      new BatonError(`Service "${this.id}" stopped on its own (${describeExit(exit)})${quoteOutput(output)}`, {
        where: child.logFile,
        hint: 'its output above says why; start it again once fixed',
      }),
    );
  }

  #defaultLogFile(): string {
    const context = this.context;
    const name = `${this.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`;
    if (context?.local) return join(context.runPath, 'services', name);
    return join(tmpdir(), `baton-services-${process.pid}`, name);
  }
}

function fillPlaceholders(options: { text: string; port: number; id: string }): string {
  return options.text.replaceAll('{port}', String(options.port)).replaceAll('{host}', SERVICE_HOST).replaceAll('{id}', options.id);
}

function describeExit(exit: { code: number | null; signal: string | null } | undefined): string {
  if (!exit) return 'still running';
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'could not run' : `exit code ${exit.code}`;
}

function quoteOutput(output: string): string {
  return output ? `; its output ended with:\n${output.split('\n').map((line) => `    ${line}`).join('\n')}` : '; it printed nothing';
}
