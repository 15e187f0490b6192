// What a settings file is told when a launcher, connector or service block names a
// kind no loaded plugin provides: the kind it may have meant, and, for a kind of a
// built-in plugin that is not listed, the short name to add to `plugins:`.
import { closeCandidate } from '../errors.ts';
import { BUILTIN_KINDS, BUILTIN_PLUGINS } from '../plugin/loadPlugins.ts';

export type KindRole = keyof typeof BUILTIN_KINDS;

/** The issue message for `use: <kind>` when `known` (the loaded plugins' kinds of this role) lacks it. */
export function unknownKindMessage(options: { role: KindRole; kind: string; known: readonly string[] }): string {
  const { role, kind, known } = options;
  const builtins = BUILTIN_KINDS[role];
  const loaded = `loaded kinds: ${known.join(', ') || 'none'}`;
  const plugin = Object.hasOwn(builtins, kind) ? builtins[kind] : undefined;
  if (plugin !== undefined) {
    return `${role} kind "${kind}" comes with the built-in plugin ${BUILTIN_PLUGINS[plugin]}, which is not loaded: add ${plugin} to \`plugins:\` (${loaded})`;
  }
  const meant = closeCandidate(kind, [...known, ...Object.keys(builtins).filter((candidate) => !known.includes(candidate))]);
  let suggestion = '';
  if (meant !== undefined && known.includes(meant)) suggestion = ` (did you mean "${meant}"?)`;
  else if (meant !== undefined) {
    const meantPlugin = builtins[meant]!;
    suggestion = ` (did you mean "${meant}"? It comes with the built-in plugin ${BUILTIN_PLUGINS[meantPlugin]}: add ${meantPlugin} to \`plugins:\`)`;
  }
  return `unknown ${role} kind "${kind}"${suggestion}; ${loaded}. Add the plugin that provides it to \`plugins:\` if it is not a typo`;
}
