import { CounterToken } from '../token/counterToken.ts';
import type { Connector, Token } from '../types.ts';
import type { WorkspaceSettings } from './validateSettings.ts';

/**
 * The workspace's counter tokens (`tokens: { gpu: 2 }`), by name; their files go
 * through `connector`, the workspace's (default: this machine's).
 */
export function createWorkspaceTokens(options: { workspace: WorkspaceSettings; connector?: Connector }): Map<string, Token> {
  const { workspace, connector } = options;
  const tokens = new Map<string, Token>();
  for (const [name, total] of Object.entries(workspace.tokens)) {
    tokens.set(name, new CounterToken({ name, total, workspacePath: workspace.path, connector }));
  }
  return tokens;
}
