// The launcher finder: the launcher a job names, else the first that offers
// what one of its requirement alternatives asks for (default launcher first,
// then by priority, then in declaration order).
import { didYouMean, UserInputError } from '../errors.ts';
import { describeRequirements, hostFits, hostShortfall } from '../task/requirements.ts';
import type { FailureInfo, Launcher, Requirements } from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';

export interface ChooseLauncherOptions {
  workspace: Workspace;
  /** Launcher named by the submit call or the task. */
  requested?: string;
  /** Experiment's default launcher. */
  fallback?: string;
  alternatives: readonly Requirements[];
}

export function chooseLauncher({
  workspace,
  requested,
  fallback,
  alternatives,
}: ChooseLauncherOptions): { launcher: Launcher; requirements: Requirements } | { failure: FailureInfo } {
  if (requested !== undefined) {
    const launcher = findLauncher(workspace, requested);
    return { launcher, requirements: alternatives.find((alternative) => hostFits(launcher.host, alternative)) ?? alternatives[0] ?? {} };
  }
  const preferred = findLauncher(workspace, fallback ?? workspace.defaultLauncher);
  // Most jobs fit the preferred launcher: the others are ordered only when one does not.
  let others: Launcher[] | undefined;
  for (const alternative of alternatives) {
    if (hostFits(preferred.host, alternative)) return { launcher: preferred, requirements: alternative };
    others ??= byPriority(workspace, preferred);
    for (const launcher of others) {
      if (hostFits(launcher.host, alternative)) return { launcher, requirements: alternative };
    }
  }
  return {
    failure: {
      code: null,
      reason: 'rejected',
      message: `no launcher of workspace "${workspace.id}" offers what the job requires (${describe(alternatives)}): ${shortfalls(workspace, alternatives)}; declare a launcher that does (settings: its cores, memory, gpus, gpuMemory, maxDuration) or ask for less`,
    },
  };
}

/** The launchers other than `preferred`, highest priority first, then in declaration order. */
function byPriority(workspace: Workspace, preferred: Launcher): Launcher[] {
  return [...workspace.launchers.values()]
    .filter((launcher) => launcher !== preferred)
    .map((launcher, index) => ({ launcher, index }))
    .sort((a, b) => (b.launcher.host.priority ?? 0) - (a.launcher.host.priority ?? 0) || a.index - b.index)
    .map(({ launcher }) => launcher);
}

/** The launcher declared under `name`; a clear error with did-you-mean otherwise. */
export function findLauncher(workspace: Workspace, name: string): Launcher {
  const launcher = workspace.launchers.get(name);
  if (launcher) return launcher;
  const names = [...workspace.launchers.keys()];
  throw new UserInputError(`Unknown launcher "${name}"${didYouMean(name, names)}`, {
    where: workspace.settingsFile ? `workspace "${workspace.id}" in ${workspace.settingsFile}` : `workspace "${workspace.id}"`,
    hint: `declare it under launchers: in the settings file, or use one of: ${names.join(', ') || '(none)'}`,
  });
}

function describe(alternatives: readonly Requirements[]): string {
  return alternatives.map(describeRequirements).join(' | ');
}

/** What each launcher lacks, e.g. `local offers 0 GPUs, 1 asked; gpu offers GPUs with 16G of memory, 24G per GPU asked`. */
function shortfalls(workspace: Workspace, alternatives: readonly Requirements[]): string {
  return [...workspace.launchers]
    .map(([name, launcher]) => {
      const reasons = [...new Set(alternatives.map((alternative) => hostShortfall(launcher.host, alternative)).filter(Boolean))];
      return `${name} offers ${reasons.join(' / ')}`;
    })
    .join('; ');
}
