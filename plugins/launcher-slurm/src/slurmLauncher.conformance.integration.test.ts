// The SLURM launcher against the launcher conformance kit of @baton/core, on the real
// one-node cluster of `bash scripts/slurm-cluster.sh start` (this machine is its only
// node, so the kit's temporary workspace is on the node too).
import { spawnSync } from 'node:child_process';
import { launcherConformance } from '@baton/core/testing';
import { beforeAll } from 'vitest';
import plugin from './index.ts';

const START_HINT = 'start it with: bash scripts/slurm-cluster.sh start';
const clusterUp = spawnSync('sinfo', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status === 0;
const inCI = process.env.CI === 'true';
if (!clusterUp && !inCI) console.warn(`SLURM conformance tests skipped: no SLURM cluster answers \`sinfo -h\`; ${START_HINT}`);

beforeAll(() => {
  if (!clusterUp) throw new Error(`CI=true but no SLURM cluster answers \`sinfo -h\`: the SLURM conformance suite cannot run; ${START_HINT}`);
});

launcherConformance({
  name: 'SLURM launcher (conformance kit)',
  plugin,
  kind: 'slurm',
  settings: { partition: 'debug', time: 10, pollInterval: 500 },
  skip: !clusterUp && !inCI ? `no SLURM cluster; ${START_HINT}` : false,
  timeoutMs: 120_000,
  // Accounting lags behind sbatch: a job neither sacct nor squeue lists yet is queued for 60 s.
  missingJobGraceMs: 60_000,
});
