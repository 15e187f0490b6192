import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UserInputError } from '../errors.ts';
import { defineTask, type Task } from './defineTask.ts';
import { canonicalJson, identityHash, identityValue, jobIdentity } from './identity.ts';
import { isOption, option } from './identityParams.ts';
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

// Added with Set, Map and bigint encodings and task versions (pinned the same way).
const PINNED_TAGGED: [string, Record<string, unknown>, number | undefined, string][] = [
  ['train', { tags: new Set([1, 2]) }, undefined, '81a75e2dce1958daad8d47b8f5986d03b73729c2460b37def1c19f59b169caae'],
  ['train', { tags: new Set([2, 1]) }, undefined, '81a75e2dce1958daad8d47b8f5986d03b73729c2460b37def1c19f59b169caae'],
  ['train', { tags: new Set([1, 3]) }, undefined, '3ddee86021b80f03b4ab7493360d57d54d3bb523d04660f67328483477e26606'],
  ['train', { tags: new Set() }, undefined, 'babbdc88ae495f9468151dad7a6e39b9b76f4e16c3f466aa78ee6b992eafdfca'],
  ['train', { tags: new Set(['b', 'a', 'c']) }, undefined, '184929b13124cd0cb34b899dab16f104468a12ccfd536083ae09e80dbdafbe18'],
  ['train', { weights: new Map([['a', 1], ['b', 2]]) }, undefined, '362e98391443d56fc250ace6a4d2f7bfb03dc4541a40af8cd03899525fa47e31'],
  ['train', { weights: new Map([['b', 2], ['a', 1]]) }, undefined, '362e98391443d56fc250ace6a4d2f7bfb03dc4541a40af8cd03899525fa47e31'],
  ['train', { weights: new Map() }, undefined, 'd2c7245c6a3f5a912e611893f95eb1a8a01ee96962165a357856de7f3bd65507'],
  ['train', { weights: new Map<unknown, unknown>([[1, 'x'], [{ k: 1 }, [true]]]) }, undefined, '760e89a2b7f8e8e34e17e3046fd316bfa1ec96132e8912652d47df4124aeca42'],
  ['train', { literal: { $set: [1, 2] } }, undefined, '2d6023bbb60a13523900e263c134e59b04fd85ceedc443ef6a5761625e3e6379'],
  ['train', { seed: 12345678901234567890n }, undefined, '48bc249b90ad9e0269e5a8dc9609582bd1017601ac401148e860a7edf92a3064'],
  ['train', { model: { layers: 2 } }, undefined, '34cd4eb122862611f791511f54fe5248743e8e58ff7d128daa55e867890a9706'],
  ['train', { lr: 0.001 }, 2, '3630035de06c0229985ea17a8d93d70a3e1e8f05c5ac617b1d6d66e566044914'],
  ['train', {}, 1, '2d75482523b6353022f5646813d4aad7a69de07305a7961f84280541ce30ab52'],
];

describe('job identity', () => {
  it.each(PINNED)('pins %s %j', (taskId, params, expected) => {
    expect(jobIdentity({ taskId, params })).toBe(expected);
  });

  it.each(PINNED_TAGGED)('pins %s, tagged case %#', (taskId, params, version, expected) => {
    expect(jobIdentity({ taskId, version, params })).toBe(expected);
  });

  it.each([...PINNED.map(([taskId, params, expected]) => [taskId, params, undefined, expected] as const), ...PINNED_TAGGED])(
    'hashes parameters already canonical (as submit has them) to the same identity: %s %#',
    (taskId, params, version, expected) => {
      // Canonical values hold tagged objects ({"$object": ...}): hashed as they are, never walked again.
      expect(identityHash({ taskId, version, canonicalParams: identityValue(params, 'params') })).toBe(expected);
    },
  );

  it('gives sets and maps their own encoding: never the same as an object, an array or each other', () => {
    const identities = [new Set([1, 2]), new Set([1, 3]), new Set(), new Map(), new Map([[1, 2]]), {}, [], [1, 2], { $set: [1, 2] }, { $map: [] }].map((x) =>
      jobIdentity({ taskId: 't', params: { x } }),
    );
    expect(new Set(identities).size).toBe(identities.length);
    expect(canonicalJson(new Set([{ b: 1, a: 2 }, 'z', 1]))).toBe('{"$set":["z",1,{"a":2,"b":1}]}');
    expect(canonicalJson({ $date: 'x' })).toBe('{"$object":{"$date":"x"}}');
  });

  it('refuses values that have no faithful encoding, naming their path', () => {
    class Point {
      constructor(readonly x = 1) {}
    }
    for (const value of [new URL('https://x.org'), /a+/, Buffer.from('x'), new Uint8Array(2), new Point(), Symbol('s'), () => 1, new Date(Number.NaN), Number.POSITIVE_INFINITY]) {
      expect(() => canonicalJson({ model: { layers: [1, 2, value] } }, 'params'), String(value)).toThrow(/^params\.model\.layers\[2\]: .* cannot enter a job identity/);
    }
    expect(() => canonicalJson({ s: new Set([new URL('https://x.org')]) }, 'params')).toThrow(/params\.s\[member 0\]: a URL/);
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

describe('defaults at every depth', () => {
  const hashOf = (task: Task, params: unknown) => jobIdentity({ taskId: task.id, version: task.version, params: prepareParams(task, params).identity });
  const command = () => ['true'];
  const before = defineTask({ id: 'train', params: z.object({ model: z.object({ layers: z.number() }) }), command });

  it('keeps old jobs when a parameter with a default is added inside a nested object', () => {
    const after = defineTask({ id: 'train', params: z.object({ model: z.object({ layers: z.number(), dropout: z.number().default(0.1) }) }), command });
    expect(hashOf(before, { model: { layers: 2 } })).toBe('34cd4eb122862611f791511f54fe5248743e8e58ff7d128daa55e867890a9706');
    expect(hashOf(after, { model: { layers: 2 } })).toBe(hashOf(before, { model: { layers: 2 } }));
    expect(hashOf(after, { model: { layers: 2, dropout: 0.1 } })).toBe(hashOf(before, { model: { layers: 2 } }));
    expect(hashOf(after, { model: { layers: 2, dropout: 0.2 } })).not.toBe(hashOf(before, { model: { layers: 2 } }));
  });

  it.each([
    ['.default().optional()', z.number().default(0.1).optional()],
    ['.optional().default()', z.number().optional().default(0.1)],
    ['.nullable().default()', z.number().nullable().default(0.1)],
    ['.default().readonly()', z.number().default(0.1).readonly()],
    ['.default().pipe(schema)', z.number().default(0.1).pipe(z.number().max(1))],
    ['.prefault()', z.number().prefault(0.1)],
    ['.describe() and a check', z.number().min(0).default(0.1).describe('dropout rate')],
    ['z.lazy()', z.lazy(() => z.number().default(0.1))],
  ])('looks through %s', (_name, dropout) => {
    const after = defineTask({ id: 'train', params: z.object({ model: z.object({ layers: z.number(), dropout }) }), command });
    expect(hashOf(after, { model: { layers: 2 } })).toBe(hashOf(before, { model: { layers: 2 } }));
    expect(hashOf(after, { model: { layers: 2, dropout: 0.1 } })).toBe(hashOf(before, { model: { layers: 2 } }));
    expect(hashOf(after, { model: { layers: 2, dropout: 0.3 } })).not.toBe(hashOf(before, { model: { layers: 2 } }));
  });

  it('looks into arrays, records, tuples and discriminated unions of objects', () => {
    const layer = (extra: Record<string, z.ZodType>) => z.object({ width: z.number(), ...extra });
    const v1 = defineTask({
      id: 'net',
      params: z.object({
        layers: z.array(layer({})),
        named: z.record(z.string(), layer({})),
        pair: z.tuple([layer({}), z.string()]),
        head: z.discriminatedUnion('kind', [z.object({ kind: z.literal('linear') }), z.object({ kind: z.literal('mlp'), depth: z.number() })]),
      }),
      command,
    });
    const v2 = defineTask({
      id: 'net',
      params: z.object({
        layers: z.array(layer({ act: z.string().default('relu') })),
        named: z.record(z.string(), layer({ bias: z.boolean().default(true) })),
        pair: z.tuple([layer({ norm: z.boolean().default(false) }), z.string()]),
        head: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('linear') }),
          z.object({ kind: z.literal('mlp'), depth: z.number(), hidden: z.number().default(64) }),
        ]),
        seed: z.bigint().default(0n),
      }),
      command,
    });
    const params = { layers: [{ width: 8 }, { width: 4 }], named: { a: { width: 1 } }, pair: [{ width: 3 }, 'x'], head: { kind: 'mlp', depth: 2 } };
    expect(hashOf(v2, params)).toBe(hashOf(v1, params));
    expect(hashOf(v2, { ...params, head: { kind: 'mlp', depth: 2, hidden: 64 }, seed: 0n })).toBe(hashOf(v1, params));
    expect(hashOf(v2, { ...params, layers: [{ width: 8, act: 'gelu' }, { width: 4 }] })).not.toBe(hashOf(v1, params));
    expect(prepareParams(v2, params).resolved.layers).toEqual([
      { width: 8, act: 'relu' },
      { width: 4, act: 'relu' },
    ]);
  });

  it('keeps a transform\'s output in the identity (the schema says nothing about it)', () => {
    const task = defineTask({ id: 't', params: z.object({ n: z.number().default(3).transform((n) => n * 2) }), command });
    expect(prepareParams(task, {}).identity).toEqual({ n: 6 });
  });
});

describe('parameters outside the identity', () => {
  const command = () => ['true'];
  const hashOf = (task: Task, params: unknown) => jobIdentity({ taskId: task.id, version: task.version, params: prepareParams(task, params).identity });
  const plain = defineTask({ id: 'train', params: z.object({ lr: z.number() }), command });
  const withOptions = defineTask({
    id: 'train',
    params: z.object({
      lr: z.number(),
      workers: option(z.number().int().default(4)),
      logLevel: option(z.enum(['debug', 'info'])).optional(),
      cache: z.object({ path: option(z.string()).describe('where to cache'), size: z.number().default(1) }).optional(),
    }),
    command,
  });

  it('reach the job but not its hash', () => {
    expect(hashOf(withOptions, { lr: 0.001 })).toBe('a5728fda2f440edf1c46d3664e6f257b52b13478455e4f9fff98d3dc77b32457');
    expect(hashOf(withOptions, { lr: 0.001, workers: 16, logLevel: 'debug' })).toBe(hashOf(plain, { lr: 0.001 }));
    expect(hashOf(withOptions, { lr: 0.001, cache: { path: '/a' } })).toBe(hashOf(withOptions, { lr: 0.001, cache: { path: '/b', size: 1 } }));
    const prepared = prepareParams(withOptions, { lr: 0.001, workers: 16, cache: { path: '/tmp/c', size: 2 } });
    expect(prepared.resolved).toEqual({ lr: 0.001, workers: 16, cache: { path: '/tmp/c', size: 2 } });
    expect(prepared.identity).toEqual({ lr: 0.001, cache: { size: 2 } });
    expect(prepared.options).toEqual({ workers: 16, cache: { path: '/tmp/c' } });
  });

  it('are marked on the schema, whatever is chained after option()', () => {
    expect(isOption(option(z.number()).min(1).describe('x').optional())).toBe(true);
    expect(isOption(z.number().default(1))).toBe(false);
  });
});

describe('task versions', () => {
  const command = () => ['true'];
  it('enter the identity only when set', () => {
    const unversioned = defineTask({ id: 'train', params: z.object({ lr: z.number() }), command });
    const v2 = defineTask({ id: 'train', version: 2, params: z.object({ lr: z.number() }), command });
    const identity = (task: Task) => jobIdentity({ taskId: task.id, version: task.version, params: prepareParams(task, { lr: 0.001 }).identity });
    expect(identity(unversioned)).toBe('a5728fda2f440edf1c46d3664e6f257b52b13478455e4f9fff98d3dc77b32457');
    expect(identity(v2)).toBe('3630035de06c0229985ea17a8d93d70a3e1e8f05c5ac617b1d6d66e566044914');
    expect(() => defineTask({ id: 'train', version: 0, params: z.object({}), command })).toThrow(/Invalid version 0/);
    expect(() => defineTask({ id: 'train', version: 1.5, params: z.object({}), command })).toThrow(UserInputError);
  });
});

describe('the values a job keeps', () => {
  const task = defineTask({ id: 'loose-kept', params: z.object({ model: z.object({ layers: z.array(z.any()) }), tags: z.any() }), command: () => ['true'] });
  it('are its own: the caller changing its objects after submit changes neither the parameters nor the identity', () => {
    const input = { model: { layers: [{ size: 3 }, [1, 2]] }, tags: { team: 'a' } };
    const prepared = prepareParams(task, input);
    const hash = jobIdentity({ taskId: task.id, params: prepared.identity });
    (input.model.layers[0] as { size: number }).size = 5;
    (input.model.layers[1] as number[]).push(3);
    input.tags.team = 'b';
    expect(prepared.resolved).toEqual({ model: { layers: [{ size: 3 }, [1, 2]] }, tags: { team: 'a' } });
    expect(prepared.identity).toEqual({ model: { layers: [{ size: 3 }, [1, 2]] }, tags: { team: 'a' } });
    expect(jobIdentity({ taskId: task.id, params: prepared.identity })).toBe(hash);
  });
});

describe('values the identity refuses, at submit', () => {
  const task = defineTask({ id: 'loose', params: z.object({ model: z.object({ layers: z.array(z.any()) }) }), command: () => ['true'] });
  it.each([
    ['a URL', new URL('https://example.org')],
    ['a RegExp', /x/],
    ['a Buffer', Buffer.from('x')],
    ['a Float32Array', new Float32Array(1)],
    ['a Point', new (class Point {})()],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
  ])('%s, with the parameter\'s path', (kind, value) => {
    const attempt = () => prepareParams(task, { model: { layers: [1, 2, value] } });
    expect(attempt).toThrow(UserInputError);
    expect(attempt).toThrow(`Task "loose": params.model.layers[2]: ${kind} cannot enter a job identity`);
  });

  it('an option that cannot travel to the job', () => {
    const withOption = defineTask({ id: 'opt', params: z.object({ where: option(z.any()) }), command: () => ['true'] });
    expect(() => prepareParams(withOption, { where: new URL('https://example.org') })).toThrow('Task "opt": params.where: a URL cannot be passed to a job');
  });
});
