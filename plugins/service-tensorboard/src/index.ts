// @baton/service-tensorboard: TensorBoard as a service of an experiment, in code
// (`xp.useService(tensorboard({ logdir }))`) or from the settings file
// (`services: { tb: { use: tensorboard, logdir: ~/runs } }` with `plugins: [tensorboard]`).
import { definePlugin, expandPath, type ServiceFactoryContext } from '@baton/core';
import { TensorBoardService } from './tensorboardService.ts';
import { tensorboardSettings, type TensorBoardSettings } from './tensorboardSettings.ts';
import './settingsKinds.ts'; // types `use:` blocks of this plugin's kinds in defineSettings

export { TensorBoardService, tensorboard, tensorboardArgv, tensorboardCommand, missingTensorBoard, TENSORBOARD_ENV } from './tensorboardService.ts';
export type { TensorBoardOptions, TensorBoardCommandSource } from './tensorboardService.ts';
export { tensorboardSettings } from './tensorboardSettings.ts';
export type { TensorBoardSettings, TensorBoardSettingsInput } from './tensorboardSettings.ts';

/** A TensorBoard service from a settings block: paths resolved from the settings file's folder. */
export function createTensorBoardService(settings: TensorBoardSettings, context: Pick<ServiceFactoryContext, 'name' | 'baseDir'>): TensorBoardService {
  const { baseDir } = context;
  const [program, ...rest] = settings.command ?? [];
  // A path to the program ("~/tb/bin/tensorboard", "./venv/bin/tensorboard"), not a bare name looked up on PATH.
  const command = program === undefined ? undefined : [program.includes('/') ? expandPath({ path: program, baseDir }) : program, ...rest];
  return new TensorBoardService({
    id: context.name,
    description: settings.description,
    logdir: settings.logdir === undefined ? undefined : expandPath({ path: settings.logdir, baseDir }),
    command,
    reloadInterval: settings.reloadInterval,
    args: settings.args,
    keep: settings.keep,
    startTimeoutMs: settings.startTimeout * 1000,
  });
}

export default definePlugin({
  name: 'tensorboard',
  services: {
    tensorboard: {
      settings: tensorboardSettings,
      create: (settings: TensorBoardSettings, context) => createTensorBoardService(settings, context),
    },
  },
});
