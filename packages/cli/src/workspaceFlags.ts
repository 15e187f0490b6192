// --workspace / --workdir / --config-dir: the flags that choose the workspace a command reads
// (what they resolve to is workspaceOptions.ts, loaded when a command runs).
import type { Command } from 'commander';

export interface WorkspaceOptions {
  workspace?: string;
  workdir?: string;
  configDir?: string;
}

export function addWorkspaceOptions(command: Command): Command {
  return command
    .option('--workspace <id>', 'workspace id from the settings file')
    .option('--workdir <dir>', 'workspace directory (wins over --workspace)')
    .option('--config-dir <dir>', 'look for the settings file in this directory only');
}
