import { CounterToken } from '../token/counterToken.ts';
import type { Token } from '../types.ts';
import type { WorkspaceSettings } from './validateSettings.ts';

/** The workspace's counter tokens (`tokens: { gpu: 2 }`), by name. */
export function createWorkspaceTokens(options: { workspace: WorkspaceSettings }): Map<string, Token> {
  const { workspace } = options;
  const tokens = new Map<string, Token>();
  for (const [name, total] of Object.entries(workspace.tokens)) {
    tokens.set(name, new CounterToken({ name, total, workspacePath: workspace.path }));
  }
  return tokens;
}
