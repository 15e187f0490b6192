// The one list of test projects. Vitest 4 no longer reads this file itself:
// vitest.config.ts imports it into `test.projects`.
import type { TestProjectInlineConfiguration } from 'vitest/config';

// Tests import the packages of this repository from their TypeScript sources (the
// `@baton/source` export condition), so a change is tested without a build. Processes
// that tests start (the `baton` command, job runners, worker threads) run the built
// dist/ files: `pnpm test` builds first. The other conditions are Vite's defaults for Node.
const fromSources = {
  resolve: { conditions: ['@baton/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@baton/source', 'module', 'node', 'development|production'] } },
};

export const projects: TestProjectInlineConfiguration[] = [
  {
    ...fromSources,
    test: {
      name: 'unit',
      include: ['packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/*.integration.test.ts', '**/*.browser.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  },
  {
    ...fromSources,
    // Against the real SLURM of `bash scripts/slurm-cluster.sh start`; time limits take minutes.
    // One file at a time: a test stops slurmctld for 30 s, which would stall the other files' jobs.
    test: {
      name: 'integration-slurm',
      include: ['plugins/launcher-slurm/src/**/*.integration.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 600_000,
      hookTimeout: 600_000,
      fileParallelism: false,
      // The jobs of describe.concurrent all run side by side.
      maxConcurrency: 16,
    },
  },
  {
    ...fromSources,
    // Against the real OAR of `bash scripts/oar-cluster.sh start`; walltimes take most of a minute.
    // OAR refuses root's jobs: run as root, a test file's process becomes the cluster's test user
    // (plugins/launcher-oar/src/testing/oarCluster.ts), so each file needs a process of its own.
    // One file at a time: a test stops OAR's server for 30 s, which would stall the other files' jobs.
    test: {
      name: 'integration-oar',
      include: ['plugins/launcher-oar/src/**/*.integration.test.ts', 'examples/oar/**/*.integration.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 600_000,
      hookTimeout: 600_000,
      pool: 'forks',
      isolate: true,
      fileParallelism: false,
      maxConcurrency: 16,
    },
  },
  {
    ...fromSources,
    // Against the real sshd servers of `bash scripts/sshd-loopback.sh start` on 127.0.0.1;
    // timeouts, stale locks and reconnects take seconds each. One file at a time: some
    // tests cut or freeze every session of a server, which would cut the other files' too.
    test: {
      name: 'integration-ssh',
      include: ['plugins/launcher-ssh/src/**/*.integration.test.ts', 'examples/ssh/**/*.integration.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false,
    },
  },
  {
    ...fromSources,
    // Against a real `tensorboard` (the venv of `bash scripts/tensorboard-venv.sh`).
    test: {
      name: 'integration-tensorboard',
      include: ['plugins/service-tensorboard/src/**/*.integration.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  },
  {
    ...fromSources,
    // The monitor in a real browser: Debian's chromium driven by playwright-core.
    test: {
      name: 'browser',
      include: ['packages/monitor/src/**/*.browser.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false,
    },
  },
  {
    // The packages as a user receives them: packs them, installs the tarballs with npm and
    // pnpm into fresh projects in the OS temp folder (needs the npm registry), runs them there.
    test: {
      name: 'packaging',
      include: ['tests/packaging/**/*.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 600_000,
      hookTimeout: 600_000,
    },
  },
];
