// Loaded with the package on purpose: proper-lockfile listens for signals (signal-exit) from
// the moment it loads, and must be listening before a user's own handlers, or a SIGINT that a
// `process.once` handler took care of would still end the process.
import './connector/fileLock.ts';
export type * from './types.ts';
export { BatonError, UserInputError, ValidationError, didYouMean, isBatonError, isTransientError } from './errors.ts';
export type { Issue, BatonErrorOptions } from './errors.ts';
export { createLogger, setLogSink, enableDebug } from './logger.ts';
export type { Logger, LogRecord, LogSink, LogLevel } from './logger.ts';
export { definePlugin, isPlugin } from './plugin/definePlugin.ts';
export { JOB_FILES, jobDirectory, jobFile } from './job/jobFiles.ts';
export { CounterToken, tokenDirectory } from './token/counterToken.ts';
export type { CounterTokenOptions, HolderRecord } from './token/counterToken.ts';
export { Service } from './service/service.ts';
export type { ServiceOptions, ServiceSummary } from './service/service.ts';
export { WebService, servicePath } from './service/webService.ts';
export type { WebServiceStarted } from './service/webService.ts';
export { ProcessWebService, SERVICE_HOST } from './service/processWebService.ts';
export type { ProcessWebServiceOptions, ProcessLaunch, ProcessServiceSummary } from './service/processWebService.ts';
export { processServiceSettings, processServiceFactory, createProcessService, PROCESS_SERVICE_KIND } from './service/processService.ts';
export type { ProcessServiceSettings } from './service/processService.ts';
export { findFreePort, waitForHttp } from './service/httpReadiness.ts';
export type { HttpReadiness, WaitForHttpOptions } from './service/httpReadiness.ts';
export { findExecutable } from './service/serviceProcess.ts';
export { LocalConnector } from './connector/localConnector.ts';
// What a task module needs; also `@baton/core/task` on its own.
export * from './task/taskApi.ts';
export { decodeParamValue } from './task/paramValues.ts';
export { jobIdentity, canonicalJson } from './task/identity.ts';
export { parseRequirements, parseDuration, parseSize, formatSize, hostFits, hostShortfall } from './task/requirements.ts';
export { Job } from './job/job.ts';
export type { JobParamsFile } from './job/jobParamsFile.ts';
export { jobScript } from './job/jobScript.ts';
export { shellQuote, shellJoin } from './util/shellQuote.ts';
export { importUserModule, importDefault, isTypeScriptFile } from './util/importUserModule.ts';
export type { DryRunRecord } from './scheduler/scheduler.ts';
export {
  readMarkers,
  readProcessFile,
  writeFailedMarker,
  writeFailedMarkerSync,
  writeDoneMarker,
  writeDoneMarkerSync,
  doneMarkerText,
  failedMarkerText,
  launcherMayKnowBetter,
  settleFailure,
} from './scheduler/jobMarkers.ts';
export type { JobProvenance, MarkerRun, MarkerState, SettleFailureOptions } from './scheduler/jobMarkers.ts';
export {
  CANCEL_REQUEST_FILE,
  isInProcessHandle,
  isOwningProcessAlive,
  ownProcessStartTime,
  processStartTime,
  readCancelRequest,
  requestCancel,
} from './workspace/inProcessJobs.ts';
export type { CancelOutcome, CancelRequest, InProcessHandle } from './workspace/inProcessJobs.ts';
// For cluster launchers (SLURM, OAR, ...): scheduler commands and the markers they know better.
export { ClusterCommands } from './cluster/clusterCommands.ts';
export type { ClusterCommandsOptions, ClusterCommandResult } from './cluster/clusterCommands.ts';
export { ClusterJobMarkers } from './cluster/clusterJobMarkers.ts';
export { submitInGroups } from './cluster/submitInGroups.ts';
export { clusterHandle, missingJobStatus } from './cluster/clusterHandles.ts';
export type { MissingJobOptions } from './cluster/clusterHandles.ts';
export type { SubmitInGroupsOptions } from './cluster/submitInGroups.ts';
export { experiment, Experiment, RUN_SERVICES_FILE } from './experiment/experiment.ts';
export type { ExperimentOptions, ExperimentSummary, JobStateEvent, SubmitOptions } from './experiment/experiment.ts';
export { defineExperiment, isExperimentDefinition, runExperiment, baseConfigurationSchema, configurationSchema } from './experiment/defineExperiment.ts';
export type { ExperimentDefinition, ExperimentHelper, BaseConfiguration, RunExperimentOptions } from './experiment/defineExperiment.ts';
export { openWorkspace } from './workspace/openWorkspace.ts';
export type { OpenWorkspaceOptions } from './workspace/openWorkspace.ts';
export type { Workspace } from './workspace/workspace.ts';
export { loadSettings, userConfigDir, SETTINGS_FILE_NAMES } from './settings/loadSettings.ts';
export type { LoadSettingsOptions, LoadedSettings } from './settings/loadSettings.ts';
export { validateSettings, defaultSettings, defaultWorkspace, DEFAULT_LAUNCHER, DEFAULT_WORKSPACE_ID } from './settings/validateSettings.ts';
export type { Settings, WorkspaceSettings, ValidateSettingsOptions, SettingsLayer, ValidateLayeredSettingsOptions } from './settings/validateSettings.ts';
export { validateLayeredSettings } from './settings/validateSettings.ts';
export type { SettingsOrigin, SettingsOrigins, WorkspaceOrigins } from './settings/settingsLayers.ts';
export { settingsSchema, workspaceSchema, launcherBlockSchema, serviceBlockSchema } from './settings/settingsSchema.ts';
export type { SettingsInput, LauncherBlock, ServiceBlock } from './settings/settingsSchema.ts';
export { expandPath } from './settings/expandPath.ts';
export type { ExpandPathOptions } from './settings/expandPath.ts';
export { defineSettings } from './settings/defineSettings.ts';
export type {
  BatonSettings,
  LauncherKinds,
  ConnectorKinds,
  ServiceKinds,
  UntypedKindSettings,
  LauncherCommonSettings,
  LauncherBlockInput,
  ConnectorBlockInput,
  ServiceBlockInput,
  WorkspaceSettingsInput,
} from './settings/settingsKinds.ts';
export { settingsJsonSchema, pluginKindSettings, SETTINGS_SCHEMA_ID } from './settings/settingsJsonSchema.ts';
export type { SettingsJsonSchemaOptions } from './settings/settingsJsonSchema.ts';
export { resolveWorkspace } from './settings/resolveWorkspace.ts';
export type { ResolveWorkspaceOptions } from './settings/resolveWorkspace.ts';
export { createWorkspaceLaunchers, validateLauncherBlocks } from './settings/workspaceLaunchers.ts';
export type { CreateWorkspaceLaunchersOptions, WorkspaceLaunchers, ValidatedLauncher, LauncherBlocksOptions } from './settings/workspaceLaunchers.ts';
export { createWorkspaceTokens } from './settings/workspaceTokens.ts';
export { createWorkspaceServices, validateServiceBlocks, serviceKinds, unknownService } from './settings/workspaceServices.ts';
export type { WorkspaceServices, ValidatedService, ServiceBlocksOptions, CreateWorkspaceServicesOptions } from './settings/workspaceServices.ts';
export { loadPlugins, launcherKinds, BUILTIN_PLUGINS } from './plugin/loadPlugins.ts';
export type { LoadPluginsOptions } from './plugin/loadPlugins.ts';
export { installCommand, userPackageManager } from './util/installHint.ts';
export type { PackageManager } from './util/installHint.ts';
export { loadConfiguration, mergeConfigurations, applyOverride, configurationToYaml } from './experiment/configurationFile.ts';
export type { LoadConfigurationOptions, LoadedConfiguration, ConfigurationObject } from './experiment/configurationFile.ts';
export { listJobs, findJobs, cleanJobs } from './workspace/jobCatalog.ts';
export type { JobRecord, CatalogJobState, HandleStatus, HandleStatusFunction, ListJobsOptions, FindJobsOptions, CleanJobsOptions } from './workspace/jobCatalog.ts';
