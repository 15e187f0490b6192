// Types of the settings file as `defineSettings` checks it: each launcher, connector and
// service block is typed by its `use:` kind. The kinds live in registry interfaces that
// plugins extend by declaration merging (as Vite and ESLint type their plugins' options):
//
//   declare module '@baton/core' {
//     interface LauncherKinds { slurm: z.input<typeof slurmLauncherSettings> }
//   }
//
// A registry no plugin extended leaves its blocks loosely typed (`use` plus any keys), so a
// settings file type-checks before any plugin's types are in scope; once a plugin's kinds
// are known, a block of another kind, or a key its kind does not have, is a type error.
import type { z } from 'zod';
import type { processServiceSettings } from '../service/processService.ts';
import type { workspaceSchema, settingsSchema } from './settingsSchema.ts';

/** Launcher kinds → the settings a block of that kind takes (without `use`). Plugins add theirs. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by declaration merging
export interface LauncherKinds {}

/** Connector kinds → the settings a block of that kind takes (without `use`). Plugins add theirs. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by declaration merging
export interface ConnectorKinds {}

/** Service kinds → the settings a block of that kind takes (without `use`): core's `process`, and the plugins'. */
export interface ServiceKinds {
  process: z.input<typeof processServiceSettings>;
}

/**
 * The settings of a kind whose plugin ships no types: any keys. Declare such a kind in
 * baton.config.ts to use it while the other kinds stay checked:
 * `declare module '@baton/core' { interface LauncherKinds { acme: UntypedKindSettings } }`.
 */
export type UntypedKindSettings = { [key: string]: unknown };

/** Keys every launcher block may carry, whatever its kind (a type, not an interface: blocks stay assignable to index signatures). */
export type LauncherCommonSettings = {
  /** Name of a `connectors:` entry: the host this launcher runs jobs on (the workspace's). */
  connector?: string;
};

/** A block of an unknown kind, when no kind of its registry is in scope. */
type LooseBlock = { use: string; [key: string]: unknown };

/**
 * One block type per kind of a registry: `{ use: kind } & its settings & what all blocks
 * share`; loose while no plugin added a kind (core's own, `BuiltIn`, do not count).
 */
type KindBlocks<Kinds, Common, BuiltIn extends PropertyKey = never> = [Exclude<keyof Kinds, BuiltIn>] extends [never]
  ? LooseBlock & Common
  : { [Kind in keyof Kinds & string]: { use: Kind } & Kinds[Kind] & Common }[keyof Kinds & string];

/** A launcher block as written in the settings file. */
export type LauncherBlockInput = KindBlocks<LauncherKinds, LauncherCommonSettings>;
/** A connector block as written in the settings file. */
export type ConnectorBlockInput = KindBlocks<ConnectorKinds, unknown>;
/** A service block as written in the settings file. */
export type ServiceBlockInput = KindBlocks<ServiceKinds, unknown, 'process'>;

type WorkspaceInput = z.input<typeof workspaceSchema>;

/** A workspace as written in the settings file, its blocks typed by kind. */
export type WorkspaceSettingsInput = Omit<WorkspaceInput, 'launchers' | 'services'> & {
  /** Launchers by name; `use` names the kind. */
  launchers?: Record<string, LauncherBlockInput>;
  /** Services by name; `use` names the kind. */
  services?: Record<string, ServiceBlockInput>;
};

/** The settings file as `defineSettings` types it. */
export type BatonSettings = Omit<z.input<typeof settingsSchema>, 'connectors' | 'workspaces'> & {
  /** Hosts to reach, by name; `use` names the kind. */
  connectors?: Record<string, ConnectorBlockInput>;
  workspaces?: WorkspaceSettingsInput[];
};
