import type { RemoteFunctionTasks } from '../job/remoteFunctionTasks.ts';
import type { WorkspaceServices } from '../settings/workspaceServices.ts';
import type { Connector, Launcher, Token } from '../types.ts';

/** An opened workspace: its directory, launchers, tokens and services, ready for an experiment. */
export interface Workspace {
  id: string;
  /** Absolute path of the workspace directory. */
  path: string;
  /** Settings env overlaid by the workspace's env. */
  env: Record<string, string>;
  /** Connector that reaches the workspace's files: this machine's, or another host's. */
  connector: Connector;
  /** How function tasks run on the workspace's host when it is another host (its Node, checked at open). */
  functionTasks?: RemoteFunctionTasks;
  /** Launchers by the name they are declared under. */
  launchers: Map<string, Launcher>;
  /** Name of the launcher used when a job names none. */
  defaultLauncher: string;
  /** Counter tokens declared in the settings, by name. */
  tokens: Map<string, Token>;
  /** Services declared in the settings (`services:`), created by name when an experiment starts one. */
  services?: WorkspaceServices;
  /** Settings file the workspace comes from, if any. */
  settingsFile?: string;
  close(): Promise<void>;
}
