// The launchers the monitor uses to cancel jobs (its kill button), as `baton jobs kill` does:
// the workspace's launcher of the job's name or, for a local job on this host, a local launcher.
import { LocalLauncher } from '@baton/launcher-local';
import { createLogger, type Connector, type LaunchHandle, type Launcher, type Workspace } from '@baton/core';

export function monitorLaunchers(options: {
  workspace: () => Promise<Workspace | undefined>;
  connector: Connector;
}): (handle: LaunchHandle, context: { isLocalHere: boolean }) => Promise<Launcher | undefined> {
  let local: LocalLauncher | undefined;
  return async (handle, { isLocalHere }) => {
    const launcher = (await options.workspace())?.launchers.get(handle.launcher);
    if (launcher || !isLocalHere) return launcher;
    local ??= new LocalLauncher({ name: 'local', connector: options.connector, logger: createLogger('baton:monitor') });
    return local;
  };
}
