// @baton/launcher-oar: submits jobs to OAR (oarsub, arrays for batches), follows
// them with one `oarstat -f -J` query per poll, and cancels them with oardel.
import { definePlugin } from '@baton/core';
import { OarLauncher } from './oarLauncher.ts';
import { oarLauncherSettings, type OarLauncherSettings } from './oarSettings.ts';
import './settingsKinds.ts'; // types `use:` blocks of this plugin's kinds in defineSettings

export { OarLauncher, unusablePath } from './oarLauncher.ts';
export type { OarLauncherOptions } from './oarLauncher.ts';
export { oarLauncherSettings, parseOarWalltime } from './oarSettings.ts';
export type { OarLauncherSettings } from './oarSettings.ts';
export { oarsubOptions, formatOarWalltime } from './oarsubOptions.ts';
export { oarStatus, decodeWaitStatus, exitCodeOf, knownOarStates } from './oarStates.ts';
export type { OarRecord, OarEvent, WaitStatus } from './oarStates.ts';
export { parseOarstat, parseJobIds } from './oarRecords.ts';
export type { OarCommandCounts, OarCommandName } from './oarCommands.ts';

export default definePlugin({
  name: 'oar',
  launchers: {
    oar: {
      settings: oarLauncherSettings,
      create: (settings: OarLauncherSettings, context) =>
        new OarLauncher({
          name: context.name,
          connector: context.connector,
          logger: context.logger,
          workspacePath: context.workspacePath,
          settings,
        }),
    },
  },
});
