// Modification times read and set by the host's own clock (GNU date and touch there), so
// that ages compare with the host's now, never with the caller's possibly skewed clock.
// Core's scheduler uses them for fresh claims (docs/plugins.md, "Claims").
import { BatonError } from '@baton/core';
import type { Connector } from '@baton/core';

type HostCommands = Pick<Connector, 'run' | 'exists' | 'resolve'> & { readonly description: string };

/** Milliseconds since `path` was modified, by the host's clock; undefined when it does not exist. */
export async function modifiedAgoOnHost(host: HostCommands, path: string): Promise<number | undefined> {
  const result = await host.run(['sh', '-c', 'date +%s.%N && date -r "$1" +%s.%N', 'sh', host.resolve(path)]);
  const [now, modified] = result.stdout.trim().split('\n').map(Number);
  if (result.code === 0 && now !== undefined && modified !== undefined && !Number.isNaN(now) && !Number.isNaN(modified)) {
    return Math.max(0, (now - modified) * 1000);
  }
  if (!(await host.exists(path))) return undefined;
  throw new BatonError(`Could not read the modification time of ${path} on ${host.description}: ${result.stderr.trim() || `exit ${result.code}`}`, {
    where: 'ssh connector',
    hint: 'the host needs GNU coreutils (date -r)',
  });
}

/** Sets the time of `path` to the host's now less `agoMs` (whole seconds). */
export async function setModifiedAgoOnHost(host: HostCommands, path: string, agoMs: number): Promise<void> {
  const seconds = String(Math.round(agoMs / 1000));
  const result = await host.run(['sh', '-c', 'touch -c -d "@$(( $(date +%s) - $2 ))" "$1"', 'sh', host.resolve(path), seconds]);
  if (result.code === 0) return;
  throw new BatonError(`Could not set the modification time of ${path} on ${host.description}: ${result.stderr.trim() || `exit ${result.code}`}`, {
    where: 'ssh connector',
    hint: 'the host needs GNU coreutils (touch -d @SECONDS)',
  });
}
