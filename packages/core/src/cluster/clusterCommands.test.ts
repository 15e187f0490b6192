import { describe, expect, it } from 'vitest';
import type { CommandResult, Connector } from '../types.ts';
import { ClusterCommands } from './clusterCommands.ts';

/** A connector whose commands take a moment each and that records how many run at once. */
function slowConnector(): { connector: Connector; peak: () => number } {
  let running = 0;
  let peak = 0;
  const connector = {
    hostname: 'frontend',
    run: async (): Promise<CommandResult> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return { code: 0, signal: null, stdout: 'ok\n', stderr: '' };
    },
  } as unknown as Connector;
  return { connector, peak: () => peak };
}

const quietLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('ClusterCommands', () => {
  it('runs at most maxParallel commands at once, and counts every one', async () => {
    const { connector, peak } = slowConnector();
    const commands = new ClusterCommands({ connector, logger: quietLogger, scheduler: 'OAR', commands: ['oarsub'], transient: /never/, timeoutMs: 1000, maxParallel: 3 });
    const results = await Promise.all(Array.from({ length: 20 }, () => commands.run(['oarsub', 'x'])));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(peak()).toBe(3);
    expect(commands.counts.oarsub).toBe(20);
  });

  it('allows 8 at once by default', async () => {
    const { connector, peak } = slowConnector();
    const commands = new ClusterCommands({ connector, logger: quietLogger, scheduler: 'SLURM', commands: ['sbatch'], transient: /never/, timeoutMs: 1000 });
    await Promise.all(Array.from({ length: 30 }, () => commands.run(['sbatch'])));
    expect(peak()).toBe(8);
  });
});
