// For Baton's own plugins: core names, in settings errors, the plugin that provides each
// built-in kind (BUILTIN_KINDS); each plugin's tests check that the list says what the
// plugin really provides.
import { BUILTIN_KINDS, BUILTIN_PLUGINS } from '../plugin/loadPlugins.ts';
import type { PluginDefinition } from '../types.ts';

const ROLES = [
  ['launcher', 'launchers'],
  ['connector', 'connectors'],
  ['service', 'services'],
] as const;

/**
 * Where core's list of built-in kinds disagrees with `plugin`, listed under the short
 * name `shortName` (`slurm`): kinds it provides that the list does not give to it, and
 * kinds the list gives to it that it does not provide. Empty when they agree.
 */
export function builtinKindMismatches(plugin: PluginDefinition, shortName: string): string[] {
  const mismatches: string[] = [];
  if (!Object.hasOwn(BUILTIN_PLUGINS, shortName)) mismatches.push(`"${shortName}" is not a built-in plugin's short name`);
  for (const [role, group] of ROLES) {
    const provided = Object.keys(plugin[group] ?? {});
    const listed = Object.entries(BUILTIN_KINDS[role])
      .filter(([, owner]) => owner === shortName)
      .map(([kind]) => kind);
    for (const kind of provided) if (!listed.includes(kind)) mismatches.push(`${role} kind "${kind}" is not listed for ${shortName}`);
    for (const kind of listed) if (!provided.includes(kind)) mismatches.push(`${role} kind "${kind}" is listed for ${shortName} but not provided`);
  }
  return mismatches;
}
