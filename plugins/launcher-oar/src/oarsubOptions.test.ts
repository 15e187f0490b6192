import { validateLauncherBlocks, validateSettings, ValidationError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import plugin from './index.ts';
import { oarLauncherSettings, parseOarWalltime, type OarLauncherSettings } from './oarSettings.ts';
import { formatOarWalltime, oarsubOptions } from './oarsubOptions.ts';

function settings(input: Record<string, unknown> = {}): OarLauncherSettings {
  return oarLauncherSettings.parse(input);
}

describe('oarsubOptions', () => {
  it('turns every setting into its oarsub option, as separate argv items, extra arguments last', () => {
    const options = oarsubOptions({
      settings: settings({
        queue: 'production',
        project: 'vision',
        resources: '/nodes=1/core=4',
        walltime: '2h',
        properties: "gpu_model='A100' AND mem > 64000",
        types: ['besteffort', 'timesharing=*,*'],
        extraArgs: ['--notify=mail:me@example.org', '--stagein=it has spaces; and $(no shell)'],
      }),
      requirements: {},
    });
    expect(options).toEqual([
      '--queue=production',
      '--project=vision',
      '--resource=/nodes=1/core=4,walltime=2:00:00',
      "--property=gpu_model='A100' AND mem > 64000",
      '--type=besteffort',
      '--type=timesharing=*,*',
      '--notify=mail:me@example.org',
      '--stagein=it has spaces; and $(no shell)',
    ]);
  });

  it('leaves out what nobody asked for: OAR then uses its defaults', () => {
    expect(oarsubOptions({ settings: settings(), requirements: {} })).toEqual([]);
    expect(oarsubOptions({ settings: settings({ queue: 'default' }), requirements: { memory: 1024 ** 3 } })).toEqual(['--queue=default']);
  });

  it.each([
    ['2h', 'walltime=2:00:00'],
    ['2:00:00', 'walltime=2:00:00'],
    ['2:30', 'walltime=2:30:00'],
    ['90m', 'walltime=1:30:00'],
    [2, 'walltime=2:00:00'],
    ['2', 'walltime=2:00:00'],
    [0.5, 'walltime=0:30:00'],
    ['36:00:00', 'walltime=36:00:00'],
  ])('asks for walltime %j as %s', (walltime, expected) => {
    expect(oarsubOptions({ settings: settings({ walltime }), requirements: {} })).toEqual([`--resource=${expected}`]);
  });

  it("lets the task's duration override the walltime setting", () => {
    expect(oarsubOptions({ settings: settings({ walltime: '2h' }), requirements: { duration: 90 * 60 } })).toEqual(['--resource=walltime=1:30:00']);
    // Hours past a day stay hours; seconds are rounded up.
    expect(oarsubOptions({ settings: settings(), requirements: { duration: 2 * 86400 + 60.2 } })).toEqual(['--resource=walltime=48:01:01']);
  });

  it("asks for the task's GPUs on one host, under the resource name the cluster uses, and for its cores", () => {
    expect(oarsubOptions({ settings: settings(), requirements: { gpus: { count: 2 }, cores: 8 } })).toEqual(['--resource=/host=1/gpu=2']);
    expect(oarsubOptions({ settings: settings({ gpuResource: 'gpu_device', walltime: '1h' }), requirements: { gpus: { count: 1 } } })).toEqual([
      '--resource=/host=1/gpu_device=1,walltime=1:00:00',
    ]);
    expect(oarsubOptions({ settings: settings(), requirements: { cores: 4 } })).toEqual(['--resource=/core=4']);
    expect(oarsubOptions({ settings: settings(), requirements: { gpus: { count: 0 }, cores: 2 } })).toEqual(['--resource=/core=2']);
  });

  it('takes the resources setting over what the task asks for', () => {
    const options = oarsubOptions({ settings: settings({ resources: "{gpu_model='A100'}/host=1/gpu=1" }), requirements: { gpus: { count: 4 }, cores: 16, duration: 600 } });
    expect(options).toEqual(["--resource={gpu_model='A100'}/host=1/gpu=1,walltime=0:10:00"]);
  });

  it('signals resumable tasks ahead of their walltime, with the checkpoint signal, before the extra arguments', () => {
    const options = oarsubOptions({ settings: settings({ walltime: '1h', extraArgs: ['--hold'] }), requirements: {}, resumable: { signalAheadSeconds: 120 } });
    expect(options).toEqual(['--resource=walltime=1:00:00', '--checkpoint=120', '--signal=12', '--hold']);
    expect(oarsubOptions({ settings: settings({ checkpointSignal: 10 }), requirements: {}, resumable: { signalAheadSeconds: 0.2 } })).toEqual(['--checkpoint=1', '--signal=10']);
  });
});

describe('OAR walltimes', () => {
  it.each([
    ['2:00:00', 7200],
    ['2:30', 9000],
    ['1:02:03', 3723],
    ['2', 7200],
    [' 48 ', 48 * 3600],
    [2, 7200],
    [1.5, 5400],
    // A decimal written as a string is hours too, never seconds.
    ['1.5', 5400],
    ['.25', 900],
    ['2h', 7200],
    ['90m', 5400],
    ['1d12h', 129_600],
  ])('reads %j as %d seconds', (value, seconds) => {
    expect(parseOarWalltime(value)).toBe(seconds);
  });

  it('refuses what is not a walltime, naming the setting', () => {
    expect(() => parseOarWalltime('two hours and a bit', 'launchers.cluster.walltime')).toThrow(
      expect.objectContaining({ where: 'launchers.cluster.walltime', message: expect.stringContaining('"two hours and a bit" is not a duration') }),
    );
    expect(() => parseOarWalltime('1:xx')).toThrow(/not a duration/);
  });

  it('formats seconds as H:MM:SS, hours past 24 included, rounded up, at least one second', () => {
    expect(formatOarWalltime(7200)).toBe('2:00:00');
    expect(formatOarWalltime(59.2)).toBe('0:01:00');
    expect(formatOarWalltime(100 * 3600 + 61)).toBe('100:01:01');
    expect(formatOarWalltime(0)).toBe('0:00:01');
  });
});

describe('settings', () => {
  it('has defaults for GPUs, signals, arrays, polling, timeouts and retries', () => {
    expect(settings()).toEqual({ gpuResource: 'gpu', checkpointSignal: 12, maxArraySize: 1000, pollInterval: 5000, commandTimeoutMs: 60_000, submitRetries: 6 });
  });

  it('rejects unknown keys and bad values', () => {
    const typo = oarLauncherSettings.safeParse({ walltim: '2h' });
    expect(typo.success).toBe(false);
    expect(typo.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['walltim'] }));
    const walltime = oarLauncherSettings.safeParse({ walltime: 'two hours' });
    expect(walltime.error?.issues[0]).toMatchObject({ path: ['walltime'], message: expect.stringContaining('2:00:00') });
    expect(oarLauncherSettings.safeParse({ walltime: '0:00' }).success).toBe(false);
    expect(oarLauncherSettings.safeParse({ walltime: -1 }).success).toBe(false);
    expect(oarLauncherSettings.safeParse({ gpuResource: 'gpu=2' }).success).toBe(false);
    expect(oarLauncherSettings.safeParse({ types: 'besteffort' }).success).toBe(false);
    expect(oarLauncherSettings.safeParse({ checkpointSignal: 65 }).success).toBe(false);
    expect(oarLauncherSettings.safeParse({ extraArgs: '--hold' }).success).toBe(false);
  });

  it('refuses the idempotent type (OAR would resubmit the job beside Baton), wherever it is written', () => {
    for (const block of [
      { types: ['besteffort', 'idempotent'] },
      { types: ['Idempotent'] },
      { extraArgs: ['-t', 'idempotent'] },
      { extraArgs: ['-tidempotent'] },
      { extraArgs: ['--type', 'idempotent'] },
      { extraArgs: ['--type=besteffort,idempotent'] },
    ]) {
      const result = oarLauncherSettings.safeParse(block);
      expect(result.success, JSON.stringify(block)).toBe(false);
      expect(result.error?.issues[0]?.message).toContain('idempotent type is refused');
    }
    // Other types, and the word as an argument of another option, stay allowed.
    expect(oarLauncherSettings.safeParse({ types: ['besteffort', 'timesharing=user,*'] }).success).toBe(true);
    expect(oarLauncherSettings.safeParse({ extraArgs: ['-t', 'besteffort', '-n', 'idempotent'] }).success).toBe(true);
  });

  it('reports a typo in a `use: oar` block with its key path and a did-you-mean, through core', () => {
    const loaded = validateSettings({
      raw: { workspaces: [{ id: 'main', path: '/ws', launchers: { cluster: { use: 'oar', walltim: '2h', queue: 'default' } } }] },
      baseDir: '/',
      env: {},
    });
    let error: unknown;
    try {
      validateLauncherBlocks({ workspace: loaded.workspaces[0]!, plugins: [plugin], settingsFile: '/project/baton.config.yaml' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([{ path: 'workspaces[0].launchers.cluster.walltim', message: 'unknown key "walltim" (did you mean "walltime"?)' }]);
    expect((error as ValidationError).message).toContain('/project/baton.config.yaml');
    // The same block without the typo validates.
    const fixed = validateSettings({ raw: { workspaces: [{ id: 'main', path: '/ws', launchers: { cluster: { use: 'oar', walltime: '2h' } } }] }, baseDir: '/', env: {} });
    expect(validateLauncherBlocks({ workspace: fixed.workspaces[0]!, plugins: [plugin] })).toMatchObject([{ name: 'cluster', kind: 'oar', settings: { walltime: '2h' } }]);
  });
});
