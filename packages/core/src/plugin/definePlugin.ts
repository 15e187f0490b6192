import type { Plugin, PluginDefinition } from '../types.ts';

/** Declares a plugin: `export default definePlugin({ name, launchers, ... })`. No side effects. */
export function definePlugin<const T extends PluginDefinition>(definition: T): T & Plugin {
  return Object.freeze({ ...definition, __batonPlugin: true as const });
}

/** True for objects made by `definePlugin`. */
export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as { __batonPlugin?: unknown }).__batonPlugin === true;
}
