// Runs a batch scheduler's commands (sbatch, oarsub...) through a launcher's
// connector: each with a timeout, counted (benchmarks report how many calls a
// run made), and retried with jittered exponential backoff when the failure is
// one that passes (the scheduler busy, restarting or out of reach for a moment).
import { isTransientError } from '../errors.ts';
import { limitIo, type IoLimit } from '../scheduler/limitIo.ts';
import type { CommandResult, Connector, LoggerLike } from '../types.ts';

export interface ClusterCommandsOptions<Name extends string> {
  connector: Connector;
  logger: LoggerLike;
  /** The scheduler's name in messages (`SLURM`, `OAR`). */
  scheduler: string;
  /** Every command this runner may run: the keys of `counts`. */
  commands: readonly Name[];
  /** A failure whose stderr matches passes by itself: worth retrying. */
  transient: RegExp;
  timeoutMs: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs, each randomized down to half. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /**
   * Most commands under way at once (default 8): 200 jobs that cannot share an array are 200
   * submissions, which must not all hit the scheduler's server at the same moment.
   */
  maxParallel?: number;
}

export interface ClusterCommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** The failure passes by itself: worth retrying. */
  transient: boolean;
  /** Killed after the timeout. */
  timedOut: boolean;
  /** It may have run although it failed: timed out, or its answer lost with the connection to the host. */
  mayHaveRun: boolean;
  /** What went wrong, for messages (empty when ok). */
  message: string;
}

export class ClusterCommands<Name extends string> {
  readonly #options: Required<ClusterCommandsOptions<Name>>;
  readonly #counts: Record<Name, number>;
  readonly #limit: IoLimit;

  constructor(options: ClusterCommandsOptions<Name>) {
    this.#options = { retryBaseMs: 2000, maxRetryDelayMs: 30_000, maxParallel: 8, ...options };
    this.#limit = limitIo(this.#options.maxParallel);
    this.#counts = Object.fromEntries(options.commands.map((name) => [name, 0])) as Record<Name, number>;
  }

  /** How many times each command ran (retries included). */
  get counts(): Record<Name, number> {
    return { ...this.#counts };
  }

  async run(argv: readonly [Name, ...string[]]): Promise<ClusterCommandResult> {
    const [command] = argv;
    this.#counts[command]++;
    const { connector, timeoutMs, scheduler } = this.#options;
    let result: CommandResult;
    try {
      result = await this.#limit(() => connector.run(argv, { timeoutMs }));
    } catch (error) {
      // The host out of reach for a moment (a dropped SSH connection): the command may have run.
      if (isTransientError(error)) {
        return { ok: false, stdout: '', stderr: '', transient: true, timedOut: false, mayHaveRun: true, message: `${command} on ${connector.hostname}: ${(error as Error).message}` };
      }
      const message = `${command} could not be run on ${connector.hostname}: ${(error as Error).message}; is ${scheduler} installed there and ${command} on the PATH?`;
      return { ok: false, stdout: '', stderr: '', transient: false, timedOut: false, mayHaveRun: false, message };
    }
    if (result.code === 0) return { ok: true, stdout: result.stdout, stderr: result.stderr, transient: false, timedOut: false, mayHaveRun: true, message: '' };
    const timedOut = result.code === null;
    const stderr = result.stderr.trim();
    const message = timedOut
      ? `${command} did not answer within ${timeoutMs} ms (killed by ${result.signal ?? 'a signal'})${stderr ? `: ${stderr}` : ''}`
      : stderr || result.stdout.trim() || `${command} exited with code ${result.code}`;
    const transient = timedOut || this.#options.transient.test(result.stderr) || this.#options.transient.test(result.stdout);
    return { ok: false, stdout: result.stdout, stderr: result.stderr, transient, timedOut, mayHaveRun: timedOut, message };
  }

  /**
   * Runs a command, retrying transient failures up to `retries` times.
   * `beforeRetry` may settle the matter instead (e.g. a timed-out submission that went through after all).
   */
  async runWithRetries(
    argv: readonly [Name, ...string[]],
    options: { retries: number; beforeRetry?: (failed: ClusterCommandResult) => Promise<ClusterCommandResult | undefined> },
  ): Promise<ClusterCommandResult & { attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.run(argv);
      if (result.ok || !result.transient || attempt > options.retries) return { ...result, attempts: attempt };
      const settled = await options.beforeRetry?.(result);
      if (settled) return { ...settled, attempts: attempt };
      const delay = this.#delay(attempt);
      this.#options.logger.debug(`${argv[0]} failed (${result.message}); retry ${attempt}/${options.retries} in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  #delay(attempt: number): number {
    const { retryBaseMs, maxRetryDelayMs } = this.#options;
    const ceiling = Math.min(maxRetryDelayMs, retryBaseMs * 2 ** (attempt - 1));
    // Jitter: many experiment processes retrying after one scheduler restart do not all come back at once.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
