import { afterEach, describe, expect, it, vi } from 'vitest';
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

  describe('retries', () => {
    afterEach(() => vi.restoreAllMocks());

    /** Fails with a transient message `failures` times, then succeeds. */
    function flakyConnector(failures: number): Connector {
      let calls = 0;
      return {
        hostname: 'frontend',
        run: async (): Promise<CommandResult> =>
          ++calls <= failures ? { code: 1, signal: null, stdout: '', stderr: 'Cannot connect to the server\n' } : { code: 0, signal: null, stdout: 'OAR_JOB_ID=7\n', stderr: '' },
      } as unknown as Connector;
    }

    it('waits a delay that doubles per attempt up to its ceiling, each drawn between half of it and all of it', async () => {
      const delays: number[] = [];
      const logger = { ...quietLogger, debug: (line: string) => delays.push(Number(/in (\d+) ms/.exec(line)?.[1])) };
      // The draws: lowest, highest, middle, highest (against the 40 ms cap).
      const draws = [0, 0.999, 0.5, 0.999];
      vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.5);
      const commands = new ClusterCommands({ connector: flakyConnector(4), logger, scheduler: 'OAR', commands: ['oarsub'], transient: /Cannot connect/, timeoutMs: 1000, retryBaseMs: 10, maxRetryDelayMs: 40 });
      const result = await commands.runWithRetries(['oarsub', 'job.sh'], { retries: 5 });
      expect(result).toMatchObject({ ok: true, attempts: 5 });
      expect(commands.counts.oarsub).toBe(5);
      // Ceilings 10, 20, 40, 40 (capped): 5 (half), 20 (all), 30 (three quarters), 40 (all).
      expect(delays).toEqual([5, 20, 30, 40]);
    });

    it('spreads the retries of many processes: the delays differ from draw to draw', async () => {
      const delays: number[] = [];
      const logger = { ...quietLogger, debug: (line: string) => delays.push(Number(/in (\d+) ms/.exec(line)?.[1])) };
      await Promise.all(
        Array.from({ length: 20 }, () =>
          new ClusterCommands({ connector: flakyConnector(1), logger, scheduler: 'OAR', commands: ['oarsub'], transient: /Cannot connect/, timeoutMs: 1000, retryBaseMs: 200 }).runWithRetries(['oarsub'], { retries: 1 }),
        ),
      );
      expect(delays).toHaveLength(20);
      expect(delays.every((delay) => delay >= 100 && delay <= 200)).toBe(true);
      expect(new Set(delays).size).toBeGreaterThan(5);
    });

    it('gives up after its retries with the last failure, and never retries a lasting one', async () => {
      const commands = new ClusterCommands({ connector: flakyConnector(10), logger: quietLogger, scheduler: 'OAR', commands: ['oarsub'], transient: /Cannot connect/, timeoutMs: 1000, retryBaseMs: 1 });
      expect(await commands.runWithRetries(['oarsub'], { retries: 2 })).toMatchObject({ ok: false, transient: true, attempts: 3, message: 'Cannot connect to the server' });
      const lasting = new ClusterCommands({ connector: flakyConnector(10), logger: quietLogger, scheduler: 'OAR', commands: ['oarsub'], transient: /never/, timeoutMs: 1000, retryBaseMs: 1 });
      expect(await lasting.runWithRetries(['oarsub'], { retries: 2 })).toMatchObject({ ok: false, transient: false, attempts: 1 });
    });
  });
});
