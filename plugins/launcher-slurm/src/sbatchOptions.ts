// The resource options of one sbatch call: the launcher's settings, completed or
// overridden by what the job requires. Jobs with equal options may share an array.
import type { LaunchRequest } from '@baton/core';
import { parseSlurmMemory, parseSlurmTime, type SlurmLauncherSettings } from './slurmSettings.ts';

export interface SbatchOptionsInput {
  settings: SlurmLauncherSettings;
  requirements: LaunchRequest['requirements'];
  resumable?: LaunchRequest['resumable'];
}

/** SLURM accepts `--signal=...@N` up to this many seconds. */
const MAX_SIGNAL_AHEAD_SECONDS = 65_535;

/** Options as argv items (never a shell string: nothing needs quoting). */
export function sbatchOptions({ settings, requirements, resumable }: SbatchOptionsInput): string[] {
  const args: string[] = [];
  if (settings.partition) args.push(`--partition=${settings.partition}`);
  if (settings.account) args.push(`--account=${settings.account}`);
  if (settings.qos) args.push(`--qos=${settings.qos}`);
  const seconds = requirements.duration ?? (settings.time === undefined ? undefined : parseSlurmTime(settings.time));
  if (seconds !== undefined) args.push(`--time=${formatSlurmTime(seconds)}`);
  const cores = requirements.cores ?? settings.cpusPerTask;
  if (cores !== undefined) args.push(`--cpus-per-task=${cores}`);
  const memory = requirements.memory ?? (settings.mem === undefined ? undefined : parseSlurmMemory(settings.mem));
  if (memory !== undefined) args.push(`--mem=${formatSlurmMemory(memory)}`);
  const gpus = requirements.gpus?.count ?? settings.gpusPerNode;
  if (gpus !== undefined && gpus > 0) args.push(settings.gpuOption === 'gpus-per-node' ? `--gpus-per-node=${gpus}` : `--gres=gpu:${gpus}`);
  if (settings.constraint) args.push(`--constraint=${settings.constraint}`);
  if (settings.exclude && settings.exclude.length > 0) args.push(`--exclude=${settings.exclude.join(',')}`);
  if (resumable) {
    const ahead = Math.min(Math.max(1, Math.round(resumable.signalAheadSeconds)), MAX_SIGNAL_AHEAD_SECONDS);
    // B: signals the batch shell only, i.e. job.sh, which forwards it to the task.
    args.push(`--signal=B:USR2@${ahead}`);
  }
  // Last, so that they can override anything above.
  args.push(...(settings.extraArgs ?? []));
  return args;
}

/** `[D-]HH:MM:SS`, rounded up to whole seconds. */
export function formatSlurmTime(seconds: number): string {
  let rest = Math.max(1, Math.ceil(seconds));
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const clock = [Math.floor(rest / 3600), Math.floor((rest % 3600) / 60), rest % 60].map((part) => String(part).padStart(2, '0')).join(':');
  return days > 0 ? `${days}-${clock}` : clock;
}

/** Whole gigabytes as `NG`, anything else as megabytes rounded up (`NM`). */
export function formatSlurmMemory(bytes: number): string {
  const megabytes = Math.max(1, Math.ceil(bytes / 1024 ** 2));
  return megabytes % 1024 === 0 ? `${megabytes / 1024}G` : `${megabytes}M`;
}
