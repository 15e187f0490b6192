// Run by launcherConformance.test.ts in a Vitest of its own: the kit against the
// fixture launcher, right and with each fault. Short timeouts: a fault that leaves a
// job running fails its test within seconds.
import { launcherConformance } from '../index.ts';
import { kitPlugin, type KitFault } from './kitLaunchers.ts';

const faults: KitFault[] = ['none', 'reversed', 'runningWhenUnknown', 'noCancel', 'forgetful', 'looseSettings'];

for (const fault of faults) {
  launcherConformance({ name: fault, plugin: kitPlugin(fault), kind: 'kit', settings: { tag: 'conformance' }, timeoutMs: 4000 });
}
