// The OAR launcher against the launcher conformance kit of @baton/core, on the real
// one-node OAR of `bash scripts/oar-cluster.sh start`. OAR refuses root's jobs: run as
// root (CI), this test process becomes the cluster's test user first, and the kit's
// workspace lives in that user's home.
import { launcherConformance } from '@baton/core/testing';
import { beforeAll } from 'vitest';
import plugin from './index.ts';
import { becomeClusterUser, clusterUser, oarClusterUp, START_HINT } from './testing/oarCluster.ts';

const clusterUp = oarClusterUp();
const inCI = process.env.CI === 'true';
if (!clusterUp && !inCI) console.warn(`OAR conformance tests skipped: no OAR cluster answers \`oarnodes -s\`; ${START_HINT}`);

let home = '';

// Before the kit's own hooks: they make the workspace, which must belong to the cluster user.
beforeAll(() => {
  if (!clusterUp) throw new Error(`CI=true but no OAR cluster answers \`oarnodes -s\`: the OAR conformance suite cannot run; ${START_HINT}`);
  const user = clusterUser();
  becomeClusterUser(user);
  home = user.home;
});

launcherConformance({
  name: 'OAR launcher (conformance kit)',
  plugin,
  kind: 'oar',
  settings: { walltime: '0:10:00', pollInterval: 500 },
  workspace: () => home,
  skip: !clusterUp && !inCI ? `no OAR cluster; ${START_HINT}` : false,
  timeoutMs: 180_000,
  // oarstat may not list a job for a moment after oarsub: the launcher calls it queued for 60 s.
  missingJobGraceMs: 60_000,
});
