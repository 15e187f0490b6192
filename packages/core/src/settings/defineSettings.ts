import type { SettingsInput } from './settingsSchema.ts';

/** Types a TS settings file: `export default defineSettings({ workspaces: [...] })`. */
export function defineSettings(settings: SettingsInput): SettingsInput {
  return settings;
}
