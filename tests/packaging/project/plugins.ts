// Type-checked only (never run): the public types of every package, as a user's
// settings and scripts meet them, under the strictest flags of tsconfig.json.
import { createProgram } from '@baton/cli';
import { defineSettings, isPlugin, jobIdentity, openWorkspace } from '@baton/core';
import type { JobParamsFile, SettingsInput, Task } from '@baton/core';
import local, { localLauncherSettings } from '@baton/launcher-local';
import type { LocalLauncherSettings } from '@baton/launcher-local';
import slurm, { parseSlurmTime, slurmLauncherSettings } from '@baton/launcher-slurm';
import type { SlurmLauncherSettings } from '@baton/launcher-slurm';
import { measure, shout } from './tasks.ts';

export const settings: SettingsInput = defineSettings({
  plugins: ['slurm'],
  workspaces: [{ id: 'here', path: './ws', launchers: { cpu: { use: 'slurm', partition: 'cpu' } } }],
});

export const plugins: boolean[] = [isPlugin(local), isPlugin(slurm)];
export const localSettings: LocalLauncherSettings = localLauncherSettings.parse({});
export const slurmSettings: SlurmLauncherSettings = slurmLauncherSettings.parse({ partition: 'cpu' });
export const seconds: number | undefined = parseSlurmTime('1:00:00');
export const tasks: Task[] = [shout, measure];
export const hash: string = jobIdentity({ taskId: shout.id, params: { word: 'a' } });
export const program = createProgram;
export const open = openWorkspace;
export type Params = JobParamsFile['taskId'];
