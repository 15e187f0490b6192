import type { BatonSettings } from './settingsKinds.ts';

/**
 * Types a TS settings file: `export default defineSettings({ workspaces: [...] })`. Each
 * launcher, connector and service block is checked against its `use:` kind, for the kinds
 * whose plugins are in scope (settingsKinds.ts).
 */
export function defineSettings(settings: BatonSettings): BatonSettings {
  return settings;
}
