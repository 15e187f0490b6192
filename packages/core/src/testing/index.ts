// @baton/core/testing: what a plugin's own tests use to check its launcher against
// the contract the scheduler relies on. Needs Vitest (an optional peer dependency).
export { launcherConformance } from './launcherConformance.ts';
export type { LauncherConformanceOptions } from './launcherConformance.ts';
export { countPolls } from './countPolls.ts';
export type { PollCount } from './countPolls.ts';
export { builtinKindMismatches } from './builtinKinds.ts';
