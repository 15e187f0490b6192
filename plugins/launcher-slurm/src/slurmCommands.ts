// Runs SLURM commands through the connector: each with a timeout, counted (the
// benchmark reports how many calls a run made), and retried with jittered
// exponential backoff when the failure is one that passes (controller busy or
// restarting).
import { isTransientError, type CommandResult, type Connector, type LoggerLike } from '@baton/core';

export type SlurmCommandName = 'sbatch' | 'sacct' | 'squeue' | 'scancel' | 'scontrol';

export type SlurmCommandCounts = Record<SlurmCommandName, number>;

export interface SlurmCommandsOptions {
  connector: Connector;
  logger: LoggerLike;
  timeoutMs: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs, each randomized down to half. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
}

export interface SlurmCommandResult {
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

/** Failures that pass by themselves: the controller is busy, restarting or unreachable for a moment. */
const TRANSIENT =
  /Socket timed out|Unable to contact slurm controller|slurmctld (?:is )?not responding|Resource temporarily unavailable|Connection refused|Zero Bytes were transmitted|temporarily unable to accept|Transport endpoint is not connected|Connection reset|try again later/i;

export class SlurmCommands {
  readonly #options: Required<SlurmCommandsOptions>;
  readonly #counts: SlurmCommandCounts = { sbatch: 0, sacct: 0, squeue: 0, scancel: 0, scontrol: 0 };

  constructor(options: SlurmCommandsOptions) {
    this.#options = { retryBaseMs: 2000, maxRetryDelayMs: 30_000, ...options };
  }

  /** How many times each command ran (retries included). */
  get counts(): SlurmCommandCounts {
    return { ...this.#counts };
  }

  async run(argv: readonly [SlurmCommandName, ...string[]]): Promise<SlurmCommandResult> {
    const [command] = argv;
    this.#counts[command]++;
    const { connector, timeoutMs } = this.#options;
    let result: CommandResult;
    try {
      result = await connector.run(argv, { timeoutMs });
    } catch (error) {
      // The host out of reach for a moment (a dropped SSH connection): the command may have run.
      if (isTransientError(error)) {
        return { ok: false, stdout: '', stderr: '', transient: true, timedOut: false, mayHaveRun: true, message: `${command} on ${connector.hostname}: ${(error as Error).message}` };
      }
      const message = `${command} could not be run on ${connector.hostname}: ${(error as Error).message}; is SLURM installed there and ${command} on the PATH?`;
      return { ok: false, stdout: '', stderr: '', transient: false, timedOut: false, mayHaveRun: false, message };
    }
    if (result.code === 0) return { ok: true, stdout: result.stdout, stderr: result.stderr, transient: false, timedOut: false, mayHaveRun: true, message: '' };
    const timedOut = result.code === null;
    const stderr = result.stderr.trim();
    const message = timedOut
      ? `${command} did not answer within ${timeoutMs} ms (killed by ${result.signal ?? 'a signal'})${stderr ? `: ${stderr}` : ''}`
      : stderr || result.stdout.trim() || `${command} exited with code ${result.code}`;
    return { ok: false, stdout: result.stdout, stderr: result.stderr, transient: timedOut || TRANSIENT.test(result.stderr), timedOut, mayHaveRun: timedOut, message };
  }

  /**
   * Runs a command, retrying transient failures up to `retries` times.
   * `beforeRetry` may settle the matter instead (e.g. a timed-out sbatch that went through after all).
   */
  async runWithRetries(
    argv: readonly [SlurmCommandName, ...string[]],
    options: { retries: number; beforeRetry?: (failed: SlurmCommandResult) => Promise<SlurmCommandResult | undefined> },
  ): Promise<SlurmCommandResult & { attempts: number }> {
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
    // Jitter: many experiment processes retrying after one controller restart do not all come back at once.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
