// The core API the CLI uses, in one place.
// TODO(lead): these modules are not exported from @baton/core yet; once index.ts exports them,
// replace the relative re-exports below with `export { ... } from '@baton/core'`.
export { loadConfiguration } from '../../core/src/experiment/configurationFile.ts';
export type { LoadedConfiguration } from '../../core/src/experiment/configurationFile.ts';
export { cleanJobs, findJobs, listJobs } from '../../core/src/workspace/jobCatalog.ts';
export type { CatalogJobState, JobRecord } from '../../core/src/workspace/jobCatalog.ts';
export { loadSettings } from '../../core/src/settings/loadSettings.ts';
export { resolveWorkspace } from '../../core/src/settings/resolveWorkspace.ts';
