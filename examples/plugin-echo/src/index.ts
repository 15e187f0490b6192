// @baton/example-plugin-echo: a minimal Baton plugin. Its default export declares
// the launcher kind `echo-local` and the service kind `echo-http`; Baton validates a
// settings block of either kind with its schema and calls `create` with the result.
import { definePlugin } from '@baton/core';
import { EchoLauncher } from './echoLauncher.ts';
import { EchoService } from './echoService.ts';
import { echoLauncherSettings, echoServiceSettings, type EchoLauncherSettings, type EchoServiceSettings } from './echoSettings.ts';

export { EchoLauncher, TAG_FILE } from './echoLauncher.ts';
export type { EchoLauncherOptions } from './echoLauncher.ts';
export { EchoService } from './echoService.ts';
export type { EchoServiceOptions } from './echoService.ts';
export { echoLauncherSettings, echoServiceSettings } from './echoSettings.ts';
export type { EchoLauncherSettings, EchoServiceSettings } from './echoSettings.ts';

export default definePlugin({
  name: 'echo',
  launchers: {
    'echo-local': {
      settings: echoLauncherSettings,
      // Called once per declared launcher when a workspace opens; context.name is its name in `launchers:`.
      create: (settings: EchoLauncherSettings, context) =>
        new EchoLauncher({
          name: context.name,
          connector: context.connector,
          logger: context.logger,
          tag: settings.tag,
          maxConcurrent: settings.maxConcurrent,
          host: { cores: settings.cores },
        }),
    },
  },
  services: {
    'echo-http': {
      settings: echoServiceSettings,
      // Called when an experiment starts the service by name; it must not start it.
      create: (settings: EchoServiceSettings, context) =>
        new EchoService({ id: context.name, greeting: settings.greeting, description: settings.description }),
    },
  },
});
