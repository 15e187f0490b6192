// @baton/launcher-slurm: submits jobs to SLURM (sbatch), follows them with one
// sacct (or squeue) query per poll, and cancels them with scancel.
import { definePlugin } from '@baton/core';
import { SlurmLauncher } from './slurmLauncher.ts';
import { slurmLauncherSettings, type SlurmLauncherSettings } from './slurmSettings.ts';
import './settingsKinds.ts'; // types `use:` blocks of this plugin's kinds in defineSettings

export { SlurmLauncher, slurmTimestamp } from './slurmLauncher.ts';
export type { SlurmLauncherOptions } from './slurmLauncher.ts';
export { slurmLauncherSettings, parseSlurmTime, parseSlurmMemory } from './slurmSettings.ts';
export type { SlurmLauncherSettings } from './slurmSettings.ts';
export { sbatchOptions, formatSlurmTime, formatSlurmMemory } from './sbatchOptions.ts';
export { slurmStatus, parseExitCode, exitCodeOf, knownSlurmStates, FATAL_PENDING_REASONS } from './slurmStates.ts';
export type { SlurmRecord, ExitStatus } from './slurmStates.ts';
export type { SlurmCommandCounts, SlurmCommandName } from './slurmCommands.ts';

export default definePlugin({
  name: 'slurm',
  launchers: {
    slurm: {
      settings: slurmLauncherSettings,
      create: (settings: SlurmLauncherSettings, context) =>
        new SlurmLauncher({
          name: context.name,
          connector: context.connector,
          logger: context.logger,
          workspacePath: context.workspacePath,
          settings,
        }),
    },
  },
});
