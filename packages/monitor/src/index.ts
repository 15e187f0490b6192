// @baton/monitor: Baton's live web monitor (experiments, jobs, logs, services), behind a token.
export { createMonitor, isLoopbackHost, DEFAULT_HOST } from './createMonitor.ts';
export { createMonitorApp } from './monitorApp.ts';
export type { MonitorApp, MonitorAppOptions } from './monitorApp.ts';
export { TOKEN_VARIABLE, newToken, tokenMatches } from './auth/token.ts';
export type * from './types.ts';
