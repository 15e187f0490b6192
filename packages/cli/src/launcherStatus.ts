// Asks a workspace's launchers about jobs the catalog cannot check from files
// alone (cluster jobs, other process-based launchers): one query per launcher.
// The workspace (settings, plugins, launchers) is opened only when such a job is met.
import type { HandleStatus, HandleStatusFunction, LaunchHandle, Launcher, Workspace } from '@baton/core';

export function launcherStatus(openWorkspace: () => Promise<Workspace | undefined>): HandleStatusFunction {
  return async (handles) => {
    const workspace = await openWorkspace();
    if (!workspace) return new Map();
    const byLauncher = new Map<Launcher, LaunchHandle[]>();
    for (const handle of handles) {
      const launcher =
        workspace.launchers.get(handle.launcher) ?? [...workspace.launchers.values()].find((candidate) => candidate.kind === handle.kind);
      if (!launcher) continue;
      byLauncher.set(launcher, [...(byLauncher.get(launcher) ?? []), handle]);
    }
    const states = new Map<string, HandleStatus>();
    for (const [launcher, list] of byLauncher) {
      const statuses = await launcher.status(list).catch(() => []);
      list.forEach((handle, i) => {
        const status = statuses[i];
        if (status && status.state !== 'unknown') states.set(handle.directory, { state: status.state, ...(status.detail ? { detail: status.detail } : {}) });
      });
    }
    return states;
  };
}
