// The settings block of a `use: oar` launcher, and OAR's own way of writing a
// walltime (`H:M:S`, `H:M`, or a bare number of hours).
import { parseDuration } from '@baton/core';
import { z } from 'zod';

const OAR_CLOCK = /^(\d+)(?::(\d+))?(?::(\d+))?$/;
const DECIMAL_HOURS = /^\d*\.\d+$/;

/**
 * OAR resubmits an idempotent job by itself (exit code 99 after 60 s, or a besteffort job
 * it killed), as a new job Baton does not know: it would run in the job's directory beside
 * Baton's own resubmission. Refused where it can be written.
 */
const IDEMPOTENT_REFUSED =
  'the idempotent type is refused: OAR would resubmit the job by itself, beside the attempt Baton resubmits, and run it twice; ' +
  "retries belong to the task's resumable or retries setting (docs/oar.md, Resumable tasks)";

function isIdempotent(type: string): boolean {
  return type.trim().toLowerCase() === 'idempotent';
}

/** `-t idempotent`, `-tidempotent`, `--type idempotent`, `--type=idempotent` (also in a comma list) among oarsub options. */
function asksIdempotent(args: readonly string[]): boolean {
  return args.some((arg, i) => {
    const attached = /^(?:-t|--type=)(.+)$/.exec(arg)?.[1];
    const value = attached ?? ((arg === '-t' || arg === '--type') ? args[i + 1] : undefined);
    return value !== undefined && value.split(',').some(isIdempotent);
  });
}

export const oarLauncherSettings = z
  .object({
    queue: z.string().min(1).optional().describe('OAR queue (`-q`); default: the cluster\'s default queue'),
    project: z.string().min(1).optional().describe('Project the jobs are accounted to (`--project`)'),
    resources: z
      .string()
      .min(1)
      .optional()
      .describe("Resources of each job (`-l`), e.g. '/nodes=1/core=4' or \"{gpu_model='A100'}/host=1/gpu=1\"; default: built from the task's cores and GPUs"),
    walltime: z
      .union([z.string(), z.number().positive()])
      .optional()
      .refine((value) => value === undefined || isValid(() => parseOarWalltime(value)), {
        message: 'not a walltime: write 2h, 90m, 2:00:00, 2:30, or a number of hours',
      })
      .describe("Walltime of each job unless the task asks for a duration: 2h, 90m, 2:00:00, 2:30, or hours (as in OAR)"),
    properties: z.string().min(1).optional().describe("Constraints on resource properties (`-p`), an SQL WHERE clause: \"gpu_model='A100'\""),
    types: z
      .array(z.string().min(1).refine((type) => !isIdempotent(type), { message: IDEMPOTENT_REFUSED }))
      .optional()
      .describe('Job types (`-t`, once each): besteffort, timesharing... (not idempotent: Baton resubmits jobs itself, see docs/oar.md)'),
    gpuResource: z
      .string()
      .regex(/^\w+$/, 'a resource property name, e.g. gpu')
      .default('gpu')
      .describe('Resource property that counts GPUs in `-l` when the task asks for GPUs and `resources` is not set'),
    gpusPerNode: z.number().int().nonnegative().optional().describe('GPUs each job gets (for choosing launchers; ask OAR for them in `resources`)'),
    coresPerNode: z.number().int().positive().optional().describe('Cores each job gets (for choosing launchers; ask OAR for them in `resources`)'),
    extraArgs: z
      .array(z.string())
      .refine((args) => !asksIdempotent(args), { message: IDEMPOTENT_REFUSED })
      .optional().describe('More oarsub options, one per item, passed as they are, after all others'),
    checkpointSignal: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(12)
      .describe('Signal OAR sends ahead of the walltime to resumable tasks (`--signal`); 12 is SIGUSR2, which job.sh passes on'),
    maxArraySize: z
      .number()
      .int()
      .nonnegative()
      .default(1000)
      .describe('Largest array Baton submits in one oarsub; 0 or 1: no arrays'),
    maxConcurrent: z.number().int().positive().optional().describe('Most jobs queued or running at once for one experiment process (default: no limit)'),
    pollInterval: z.number().positive().default(5000).describe('Milliseconds between status queries (the core backs off while nothing changes)'),
    commandTimeoutMs: z.number().int().positive().default(60_000).describe('Milliseconds after which an oarsub, oarstat or oardel call is killed'),
    submitRetries: z
      .number()
      .int()
      .nonnegative()
      .default(6)
      .describe('Retries of an oarsub call that failed for a transient reason (server not answering...), with jittered exponential backoff'),
    priority: z.number().optional().describe('Higher wins when several launchers fit a job'),
  })
  .strict();

export type OarLauncherSettings = z.output<typeof oarLauncherSettings>;

/** Seconds in an OAR walltime: `H:M:S`, `H:M`, a bare number of hours, or a Baton duration (`2h`, `90m`). */
export function parseOarWalltime(value: string | number, where = 'walltime'): number {
  if (typeof value === 'number') return Math.round(value * 3600);
  const text = value.trim();
  const clock = OAR_CLOCK.exec(text);
  if (clock) return Number(clock[1]) * 3600 + Number(clock[2] ?? 0) * 60 + Number(clock[3] ?? 0);
  // `1.5`: hours, as a bare number is (never seconds).
  if (DECIMAL_HOURS.test(text)) return Math.round(Number(text) * 3600);
  return parseDuration(text, where);
}

function isValid(parse: () => number): boolean {
  try {
    return parse() > 0;
  } catch {
    return false;
  }
}
