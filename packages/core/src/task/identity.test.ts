import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask } from './defineTask.ts';
import { canonicalJson, jobIdentity } from './identity.ts';
import { JobOutput } from './jobOutput.ts';
import { prepareParams } from './taskParams.ts';

const dep = { taskId: 'prep', hash: 'a'.repeat(64), directory: '/ws/jobs/prep/aaa' };

// These identities name job directories in users' workspaces: if one moves,
// every existing job would run again. Never update a value here to make a
// change pass; make the change keep the identity instead.
const PINNED: [string, Record<string, unknown>, string][] = [
  ['train', {}, '4a0505a0af38c4fa4d9d10dca53ba2c291c54826a1462351abd704b79fe5a5b3'],
  ['train', { lr: 0.001 }, 'a5728fda2f440edf1c46d3664e6f257b52b13478455e4f9fff98d3dc77b32457'],
  ['train', { lr: 1e-4 }, '678d52a497d7952e23f6c26576a2f98f79b8b83924bcd6743d4d74886ad90bde'],
  ['train', { lr: 0.001, epochs: 10 }, '590b4484db9792c3c80711fdafa669b8025b09d1149a8eada6fd36ab7a689020'],
  ['train', { epochs: 10, lr: 0.001 }, '590b4484db9792c3c80711fdafa669b8025b09d1149a8eada6fd36ab7a689020'],
  ['train', { name: 'résumé ✓' }, '7d83d2235a5af726b915f7ecd6c019815191b17d16aa5b72b108cc8b98635947'],
  ['train', { name: '' }, 'ea7916876b3b6d13be4a80a18017e902da47c6ab930f9d88507ba5adf95fd5f1'],
  ['train', { flag: true }, '4b04ef0c3fbc3ddc0c6941e2098206bc945a8f6849210d617073478e2c31f260'],
  ['train', { flag: false }, '0a7f362cdae0df8174547e977737e6c081235e48146e1b47877ef62772e7bf8e'],
  ['train', { nothing: null }, '0f6de4f445fd4e073324d2c1eecb8acec937de4f3602bfc8635aa87ca8148625'],
  ['train', { list: [1, 2, 3] }, '4630914522cea833196f3c47d9aa60fa5de8585b8c53d39b8e0aec62df4f5210'],
  ['train', { list: [] }, '4196a6126715b37b7adec318a5fbf9672b085a896cd342617200d3dc2549f3fc'],
  ['train', { nested: { b: 1, a: [true, 'x'] } }, '2955f92859309abc4608fbf08798d113341509f3572ee0de4d41ec9153b0b86a'],
  ['train', { big: 12345678901234 }, 'a772e390c979d7cd6423abb416e173780a672e529ad1b45a68eccd011ebbd8be'],
  ['train', { neg: -0 }, '29babd289d8048e7f43558970bfe0c1220457192203eee6a43aa15f949162bac'],
  ['train', { neg: -1.5 }, 'f4f8795786ba212dcc1d5e5ef2c48f303c1c80f2f9e3bb4e2b977a7e6af62c27'],
  ['evaluate', { model: new JobOutput(dep) }, '6b0a208aeff08de5d21d93d178a2280309ddfdfb80cda3c3d5492f858f567324'],
  ['evaluate', { model: new JobOutput(dep, 'model.bin') }, 'fad7d1e686af07c786267f214524351b71be9e6f2edf7de4edf354da48487aca'],
  ['evaluate', { models: [new JobOutput(dep, 'a'), new JobOutput(dep, 'b')] }, '2d4e2ddd34dcdce76eae5d803d3c009120fc045512ec6f6de3c154f9f8ff454c'],
  ['evaluate', { shell: `'; rm -rf ~; $(touch /tmp/pwned)` }, 'dde25275f6066c48691fbd2f301e09c16a9722603433225d24385e3c715f38cc'],
  ['a.b-c_d', { x: 1 }, '8bf0f5cae04d89c96e2933c5cc453106f094e42f3959ff2dd425b1515af9a757'],
  ['train', { date: new Date('2026-01-02T03:04:05.000Z') }, 'e319bd9442ce1b70d6d3595149c7ae88514a3918545e6e121c36c86b1443978a'],
];

describe('job identity', () => {
  it.each(PINNED)('pins %s %j', (taskId, params, expected) => {
    expect(jobIdentity({ taskId, params })).toBe(expected);
  });

  it('does not depend on key order, on -0, or on where the dependency lives', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(jobIdentity({ taskId: 't', params: { x: -0 } })).toBe(jobIdentity({ taskId: 't', params: { x: 0 } }));
    const moved = { ...dep, directory: '/elsewhere/jobs/prep/aaa' };
    expect(jobIdentity({ taskId: 'e', params: { m: new JobOutput(moved, 'f') } })).toBe(
      jobIdentity({ taskId: 'e', params: { m: new JobOutput(dep, 'f') } }),
    );
  });

  it('refuses values that have no stable encoding', () => {
    expect(() => jobIdentity({ taskId: 't', params: { x: Number.NaN } })).toThrow(/cannot enter a job identity/);
    expect(() => jobIdentity({ taskId: 't', params: { f: () => 1 } })).toThrow(/cannot enter a job identity/);
  });
});

describe('parameters and identity', () => {
  const v1 = defineTask({ id: 'train', params: z.object({ lr: z.number() }), command: () => ['true'] });
  const v2 = defineTask({
    id: 'train',
    params: z.object({ lr: z.number(), epochs: z.number().default(10), opt: z.object({ m: z.number() }).default({ m: 0.9 }) }),
    command: () => ['true'],
  });
  const identityOf = (task: typeof v1 | typeof v2, params: unknown) => jobIdentity({ taskId: task.id, params: prepareParams(task, params).identity });

  it('keeps old jobs when a parameter with a default is added', () => {
    expect(identityOf(v2, { lr: 0.1 })).toBe(identityOf(v1, { lr: 0.1 }));
    expect(identityOf(v2, { lr: 0.1, epochs: 10, opt: { m: 0.9 } })).toBe(identityOf(v1, { lr: 0.1 }));
    expect(identityOf(v2, { lr: 0.1, epochs: 11 })).not.toBe(identityOf(v1, { lr: 0.1 }));
  });

  it('gives the job its defaults while leaving them out of the identity', () => {
    const prepared = prepareParams(v2, { lr: 0.1 });
    expect(prepared.resolved).toEqual({ lr: 0.1, epochs: 10, opt: { m: 0.9 } });
    expect(prepared.identity).toEqual({ lr: 0.1 });
  });

  it('turns outputs into dependencies: hashed as the job, seen by the job as a path', () => {
    const evaluate = defineTask({ id: 'evaluate', params: z.object({ model: z.string(), extra: z.array(z.string()) }), command: () => ['true'] });
    const prepared = prepareParams(evaluate, { model: new JobOutput(dep, 'model.bin'), extra: [new JobOutput(dep)] });
    expect(prepared.resolved).toEqual({ model: '/ws/jobs/prep/aaa/model.bin', extra: ['/ws/jobs/prep/aaa'] });
    expect(prepared.dependencies).toEqual([dep]);
    expect(canonicalJson(prepared.identity)).toBe(`{"extra":[{"$job":"${dep.hash}","path":""}],"model":{"$job":"${dep.hash}","path":"model.bin"}}`);
  });

  it('reports every invalid parameter with its path', () => {
    expect(() => prepareParams(v2, { lr: 'fast', opt: { m: 'x' } })).toThrow(/Invalid parameters for task "train":\n {2}- lr: .*\n {2}- opt\.m: /);
  });
});
