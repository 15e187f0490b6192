import { describe, expect, it } from 'vitest';
import { formatSlurmMemory, formatSlurmTime, sbatchOptions } from './sbatchOptions.ts';
import { parseSlurmMemory, parseSlurmTime, slurmLauncherSettings, type SlurmLauncherSettings } from './slurmSettings.ts';

const GiB = 1024 ** 3;

function settings(input: Record<string, unknown> = {}): SlurmLauncherSettings {
  return slurmLauncherSettings.parse(input);
}

describe('sbatchOptions', () => {
  it('turns every setting into its sbatch option, as separate argv items', () => {
    const options = sbatchOptions({
      settings: settings({
        partition: 'gpu',
        account: 'proj',
        qos: 'normal',
        time: '4h',
        gpusPerNode: 2,
        cpusPerTask: 8,
        mem: '64G',
        constraint: 'a100&ib',
        exclude: ['node3', 'node4'],
        extraArgs: ['--mail-type=NONE', '--comment=it has spaces; and $(no shell)'],
      }),
      requirements: {},
    });
    expect(options).toEqual([
      '--partition=gpu',
      '--account=proj',
      '--qos=normal',
      '--time=04:00:00',
      '--cpus-per-task=8',
      '--mem=64G',
      '--gres=gpu:2',
      '--constraint=a100&ib',
      '--exclude=node3,node4',
      '--mail-type=NONE',
      '--comment=it has spaces; and $(no shell)',
    ]);
  });

  it("lets the job's requirements override the settings", () => {
    const options = sbatchOptions({
      settings: settings({ time: '4h', cpusPerTask: 8, mem: '64G', gpusPerNode: 2 }),
      requirements: { cores: 2, memory: 3 * GiB, gpus: { count: 1 }, duration: 90 * 60 },
    });
    expect(options).toEqual(['--time=01:30:00', '--cpus-per-task=2', '--mem=3G', '--gres=gpu:1']);
  });

  it('completes missing settings from the requirements and leaves out what nobody asked for', () => {
    expect(sbatchOptions({ settings: settings(), requirements: {} })).toEqual([]);
    expect(sbatchOptions({ settings: settings({ partition: 'cpu' }), requirements: { memory: 1536 * 1024 ** 2, duration: 2 * 86400 + 61 } })).toEqual([
      '--partition=cpu',
      '--time=2-00:01:01',
      '--mem=1536M',
    ]);
  });

  it('asks for GPUs with --gpus-per-node when told to, and for none when the count is 0', () => {
    expect(sbatchOptions({ settings: settings({ gpuOption: 'gpus-per-node' }), requirements: { gpus: { count: 4 } } })).toEqual(['--gpus-per-node=4']);
    expect(sbatchOptions({ settings: settings({ gpusPerNode: 0 }), requirements: {} })).toEqual([]);
  });

  it('signals resumable jobs ahead of their time limit, before the extra arguments', () => {
    const options = sbatchOptions({ settings: settings({ time: 10, extraArgs: ['--requeue'] }), requirements: {}, resumable: { signalAheadSeconds: 120 } });
    expect(options).toEqual(['--time=00:10:00', '--signal=B:USR2@120', '--requeue']);
  });
});

describe('SLURM times and sizes', () => {
  it.each([
    [10, 600],
    ['10', 600],
    ['4h', 14_400],
    ['04:00:00', 14_400],
    ['90m', 5400],
    ['1-12', 129_600],
    ['1-12:00:00', 129_600],
    ['30s', 30],
  ])('reads time %j as %d seconds', (value, seconds) => {
    expect(parseSlurmTime(value)).toBe(seconds);
  });

  it('formats seconds as [D-]HH:MM:SS', () => {
    expect(formatSlurmTime(59.2)).toBe('00:01:00');
    expect(formatSlurmTime(3600)).toBe('01:00:00');
    expect(formatSlurmTime(86400 + 3661)).toBe('1-01:01:01');
  });

  it('reads memory like --mem does (a bare number is megabytes) and formats it', () => {
    expect(parseSlurmMemory('64G')).toBe(64 * GiB);
    expect(parseSlurmMemory(512)).toBe(512 * 1024 ** 2);
    expect(parseSlurmMemory('512')).toBe(512 * 1024 ** 2);
    expect(formatSlurmMemory(64 * GiB)).toBe('64G');
    expect(formatSlurmMemory(1000)).toBe('1M');
  });
});

describe('settings', () => {
  it('has defaults for the polling, timeouts and retries', () => {
    expect(settings()).toEqual({ gpuOption: 'gres', pollInterval: 5000, commandTimeoutMs: 60_000, submitRetries: 6 });
  });

  it('rejects unknown keys, bad durations and sizes', () => {
    const typo = slurmLauncherSettings.safeParse({ partiton: 'gpu' });
    expect(typo.success).toBe(false);
    expect(JSON.stringify(typo.error?.issues)).toContain('partiton');
    const time = slurmLauncherSettings.safeParse({ time: 'four hours' });
    expect(time.error?.issues[0]).toMatchObject({ path: ['time'] });
    expect(time.error?.issues[0]?.message).toContain('04:00:00');
    expect(slurmLauncherSettings.safeParse({ mem: 'lots' }).success).toBe(false);
    expect(slurmLauncherSettings.safeParse({ exclude: 'node3' }).success).toBe(false);
    expect(slurmLauncherSettings.safeParse({ arrayLimit: 0 }).success).toBe(false);
  });
});
