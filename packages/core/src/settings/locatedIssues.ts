// Problems of layered settings, each told with the file its value came from: one
// ValidationError whose `where` is that file, or, when several files share the blame,
// each problem prefixed with its file.
import { ValidationError, type Issue } from '../errors.ts';
import type { WorkspaceSettings } from './validateSettings.ts';

/** A problem, with the settings file it is in (undefined: the settings file at hand, or settings given in code). */
export interface LocatedIssue extends Issue {
  file?: string;
}

export function locatedValidationError(options: { summary: string; issues: readonly LocatedIssue[]; defaultWhere: string; hint: string }): ValidationError {
  const { summary, issues, defaultWhere, hint } = options;
  const files = [...new Set(issues.map((issue) => issue.file ?? defaultWhere))];
  const where = files.join(' and ');
  const listed = files.length === 1 ? issues.map(({ path, message }) => ({ path, message })) : issues.map(({ file, path, message }) => ({ path: `${file ?? defaultWhere}: ${path}`, message }));
  return new ValidationError(`${summary} ${where}:`, listed, { where, hint });
}

/**
 * Where a workspace's launcher or service block was written: its file and its key path
 * there, e.g. `['workspaces', 1, 'launchers', 'gpu']` (the workspace's own without layering).
 */
export function blockOrigin(options: { workspace: WorkspaceSettings; group: 'launchers' | 'services'; name: string }): { file?: string; keyPath: PropertyKey[]; baseDir?: string } {
  const { workspace, group, name } = options;
  const origin = workspace.origins?.[group][name];
  const entry = /^workspaces\[(\d+)\]/.exec(origin?.keyPath ?? workspace.keyPath);
  const keyPath = entry ? ['workspaces', Number(entry[1]), group, name] : [group, name];
  return origin ? { ...(origin.file === undefined ? {} : { file: origin.file }), keyPath, baseDir: origin.baseDir } : { keyPath };
}
