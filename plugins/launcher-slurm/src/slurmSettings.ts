// The settings block of a `use: slurm` launcher, and the parsing of SLURM's own
// way of writing times and memory (a bare number is minutes, or megabytes).
import { parseDuration, parseSize } from '@baton/core';
import { z } from 'zod';

const SLURM_DAYS_HOURS = /^(\d+)-(\d+)$/;
const DIGITS = /^\d+$/;

export const slurmLauncherSettings = z
  .object({
    partition: z.string().min(1).optional().describe('SLURM partition (`--partition`); default: the cluster default partition'),
    account: z.string().min(1).optional().describe('Account charged for the jobs (`--account`)'),
    qos: z.string().min(1).optional().describe('Quality of service (`--qos`)'),
    time: z
      .union([z.string(), z.number().positive()])
      .optional()
      .refine((value) => value === undefined || isValid(() => parseSlurmTime(value)), {
        message: 'not a duration: write 4h, 90m, 04:00:00, 1-12:00:00, or a number of minutes',
      })
      .describe('Time limit of each job (`--time`) unless the task asks for a duration: 4h, 04:00:00, 1-12:00:00, or minutes'),
    gpusPerNode: z.number().int().nonnegative().optional().describe('GPUs per job unless the task asks for some'),
    gpuMemory: z
      .string()
      .optional()
      .refine((value) => value === undefined || isValid(() => parseSize(value, 'gpuMemory')), {
        message: 'not a size: write 24G, 80G (a unit is required)',
      })
      .describe('Memory of each GPU of the partition (24G, 80G): tasks asking for cuda(mem=...) beyond it go to another launcher'),
    gpuOption: z
      .enum(['gres', 'gpus-per-node'])
      .default('gres')
      .describe('How GPUs are requested: `--gres=gpu:N` (any SLURM) or `--gpus-per-node=N`'),
    cpusPerTask: z.number().int().positive().optional().describe('Cores per job (`--cpus-per-task`) unless the task asks for cores'),
    mem: z
      .union([z.string(), z.number().positive()])
      .optional()
      .refine((value) => value === undefined || isValid(() => parseSlurmMemory(value)), {
        message: 'not a size: write 64G, 512M, or a number of megabytes',
      })
      .describe('Memory per job (`--mem`) unless the task asks for memory: 64G, 512M, or megabytes'),
    constraint: z.string().min(1).optional().describe('Node features the jobs need (`--constraint`)'),
    exclude: z.array(z.string().min(1)).optional().describe('Nodes the jobs must not run on (`--exclude`)'),
    extraArgs: z.array(z.string()).optional().describe('More sbatch options, one per item, passed as they are, after all others'),
    arrayLimit: z.number().int().positive().optional().describe('Most tasks of one job array running at once (`--array=...%N`)'),
    maxArraySize: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe("Largest job array Baton submits; default: the cluster's MaxArraySize (`scontrol show config`); 0 or 1: no arrays"),
    maxConcurrent: z.number().int().positive().optional().describe('Most jobs queued or running at once for one experiment process (default: no limit)'),
    pollInterval: z.number().positive().default(5000).describe('Milliseconds between status queries (the core backs off while nothing changes)'),
    commandTimeoutMs: z.number().int().positive().default(60_000).describe('Milliseconds after which an sbatch, sacct, squeue, scancel or scontrol call is killed'),
    submitRetries: z
      .number()
      .int()
      .nonnegative()
      .default(6)
      .describe('Retries of an sbatch call that failed for a transient reason (controller not responding...), with jittered exponential backoff'),
    priority: z.number().optional().describe('Higher wins when several launchers fit a job'),
  })
  .strict();

export type SlurmLauncherSettings = z.output<typeof slurmLauncherSettings>;

/** Seconds in a SLURM-style time: a bare number is minutes, `D-HH` is days-hours, else a Baton duration. */
export function parseSlurmTime(value: string | number, where = 'time'): number {
  if (typeof value === 'number') return Math.round(value * 60);
  const text = value.trim();
  if (DIGITS.test(text)) return Number(text) * 60;
  const daysHours = SLURM_DAYS_HOURS.exec(text);
  if (daysHours) return Number(daysHours[1]) * 86400 + Number(daysHours[2]) * 3600;
  return parseDuration(text, where);
}

/** Bytes in a SLURM-style memory size: a bare number is megabytes, as for `--mem`. */
export function parseSlurmMemory(value: string | number, where = 'mem'): number {
  if (typeof value === 'number') return Math.round(value * 1024 ** 2);
  const text = value.trim();
  if (DIGITS.test(text)) return Number(text) * 1024 ** 2;
  return parseSize(text, where);
}

function isValid(parse: () => number): boolean {
  try {
    return parse() > 0;
  } catch {
    return false;
  }
}
