// The options of one oarsub call: the launcher's settings, completed or overridden
// by what the job requires. Jobs with equal options may share an array.
import type { LaunchRequest } from '@baton/core';
import { parseOarWalltime, type OarLauncherSettings } from './oarSettings.ts';

export interface OarsubOptionsInput {
  settings: OarLauncherSettings;
  requirements: LaunchRequest['requirements'];
  resumable?: LaunchRequest['resumable'];
}

/** Options as argv items (never a shell string: nothing needs quoting). */
export function oarsubOptions({ settings, requirements, resumable }: OarsubOptionsInput): string[] {
  const args: string[] = [];
  if (settings.queue) args.push(`--queue=${settings.queue}`);
  if (settings.project) args.push(`--project=${settings.project}`);
  const seconds = requirements.duration ?? (settings.walltime === undefined ? undefined : parseOarWalltime(settings.walltime));
  const resources = settings.resources ?? defaultResources(settings, requirements);
  const walltime = seconds === undefined ? undefined : `walltime=${formatOarWalltime(seconds)}`;
  const request = [resources, walltime].filter(Boolean).join(',');
  if (request) args.push(`--resource=${request}`);
  if (settings.properties) args.push(`--property=${settings.properties}`);
  for (const type of settings.types ?? []) args.push(`--type=${type}`);
  if (resumable) {
    // The signal goes to the job's first process: job.sh, which passes it on to the task.
    args.push(`--checkpoint=${Math.max(1, Math.round(resumable.signalAheadSeconds))}`, `--signal=${settings.checkpointSignal}`);
  }
  // Last, so that they can override anything above.
  args.push(...(settings.extraArgs ?? []));
  return args;
}

/** `/core=N` or `/<gpu>=N` from the task's requirements; undefined leaves OAR's default (one resource). */
function defaultResources(settings: OarLauncherSettings, requirements: LaunchRequest['requirements']): string | undefined {
  const gpus = requirements.gpus?.count ?? 0;
  if (gpus > 0) return `/host=1/${settings.gpuResource}=${gpus}`;
  if (requirements.cores !== undefined) return `/core=${requirements.cores}`;
  return undefined;
}

/** `H:MM:SS`, rounded up to whole seconds (OAR counts hours past 24). */
export function formatOarWalltime(seconds: number): string {
  const rest = Math.max(1, Math.ceil(seconds));
  const hours = Math.floor(rest / 3600);
  const minutes = Math.floor((rest % 3600) / 60);
  return `${hours}:${String(minutes).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
}
