// The echo-local launcher against the launcher conformance kit of @baton/core: what
// the scheduler relies on from every launcher, on this machine's connector.
import { launcherConformance } from '@baton/core/testing';
import plugin from './index.ts';

launcherConformance({
  name: 'echo-local launcher',
  plugin,
  kind: 'echo-local',
  settings: { tag: 'kit', maxConcurrent: 4 },
});
