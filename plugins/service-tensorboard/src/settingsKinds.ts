// The service kind of this plugin, added to the settings types of @baton/core, so that
// `defineSettings` checks `use: tensorboard` blocks in a baton.config.ts that has this
// package's types in scope (`import type {} from '@baton/service-tensorboard'`).
import type { TensorBoardSettingsInput } from './tensorboardSettings.ts';

declare module '@baton/core' {
  interface ServiceKinds {
    tensorboard: TensorBoardSettingsInput;
  }
}
