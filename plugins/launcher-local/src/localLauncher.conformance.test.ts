// The `local` launcher against the launcher conformance kit of @baton/core: jobs as
// detached processes of this machine, through its local connector. (The `threads`
// kind runs function tasks in worker threads of the experiment's process, not job.sh,
// and its jobs end with that process: the kit's contract is not its own.)
import { launcherConformance } from '@baton/core/testing';
import plugin from './index.ts';

launcherConformance({
  name: 'local launcher',
  plugin,
  kind: 'local',
  settings: { maxConcurrent: 4, pollInterval: 200, cancelGraceMs: 2000 },
});
