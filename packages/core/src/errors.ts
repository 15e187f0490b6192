// User-facing errors: each says what happened, where, and how to fix it.
import { lazyModule } from './util/lazyModule.ts';

/** The edit distance, required when a did-you-mean is first needed (an error path). */
const levenshtein = lazyModule<typeof import('fastest-levenshtein')>('fastest-levenshtein');

export interface BatonErrorOptions {
  /** File, key path, job... where the problem is. */
  where?: string;
  /** How to fix it. */
  hint?: string;
  cause?: unknown;
  /** Process exit code the CLI uses; 2 for bad input. */
  exitCode?: number;
}

/** An error Baton reports to the user as is (no stack trace). */
export class BatonError extends Error {
  readonly where?: string;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(message: string, options: BatonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.where = options.where;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }

  /** The message with its location and hint, one per line. */
  format(): string {
    const lines = [this.message];
    if (this.where) lines.push(`  at: ${this.where}`);
    if (this.hint) lines.push(`  fix: ${this.hint}`);
    return lines.join('\n');
  }
}

/** Bad input from the user (settings, YAML, parameters, command line): exit code 2. */
export class UserInputError extends BatonError {
  constructor(message: string, options: Omit<BatonErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: 2 });
    this.name = 'UserInputError';
  }
}

/** One problem in a list of problems reported together (e.g. settings validation). */
export interface Issue {
  path: string;
  message: string;
}

/** Several problems found at once, reported as `path: message` lines. */
export class ValidationError extends UserInputError {
  readonly issues: Issue[];

  constructor(summary: string, issues: Issue[], options: Omit<BatonErrorOptions, 'exitCode'> = {}) {
    super(`${summary}\n${issues.map((i) => `  - ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`, options);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** `did you mean "x"?` when a close candidate exists, else an empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const best = closeCandidate(input, candidates);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** The candidate closest to `input` when it is close enough to be a typo of it, else undefined. */
export function closeCandidate(input: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  if (list.length === 0) return undefined;
  const { closest, distance } = levenshtein();
  const best = closest(input, list);
  const limit = Math.max(2, Math.floor(input.length / 3));
  return distance(input, best) <= limit ? best : undefined;
}

export function isBatonError(error: unknown): error is BatonError {
  return error instanceof BatonError;
}

/**
 * True for an error that says the host could not be reached for a moment (a dropped
 * connection, a reconnection under way), not that the operation failed: a connector
 * marks it `transient: true`, on the error or a cause. The scheduler keeps following a
 * job when such an error cuts a look at it short, instead of ending the job.
 */
export function isTransientError(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    if ((current as { transient?: unknown }).transient === true) return true;
  }
  return false;
}
