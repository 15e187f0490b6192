import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UserInputError } from '../errors.ts';
import { defineTask, MAX_TASK_ID_LENGTH } from './defineTask.ts';
import { claimTaskId } from './taskRegistry.ts';

const command = () => ['true'];

describe('defineTask', () => {
  it('accepts a task id of 200 characters and refuses a longer one, with the limit', () => {
    expect(MAX_TASK_ID_LENGTH).toBe(200);
    expect(defineTask({ id: 'a'.repeat(200), params: z.object({}), command }).id).toHaveLength(200);
    expect(() => defineTask({ id: 'a'.repeat(201), params: z.object({}), command })).toThrow(UserInputError);
    expect(() => defineTask({ id: 'a'.repeat(201), params: z.object({}), command })).toThrow(/201 characters is too long \(at most 200\)/);
  });

  it('refuses, when defined, a schema whose values cannot reach the job, with the reason', () => {
    const attempt = () =>
      defineTask({
        id: 'bad',
        params: z.object({ cb: z.function(), s: z.symbol().optional(), url: z.instanceof(URL), deep: z.object({ p: z.array(z.promise(z.number())) }) }),
        command,
      });
    expect(attempt).toThrow(UserInputError);
    expect(attempt).toThrow(/params\.cb: a function cannot be written to params\.json/);
    expect(attempt).toThrow(/params\.s: a symbol/);
    expect(attempt).toThrow(/params\.url: an instance of URL/);
    expect(attempt).toThrow(/params\.deep\.p\[\]: a promise/);
  });

  it('accepts schemas whose output travels: dates, sets, maps, bigints, and a URL turned into a string', () => {
    expect(() =>
      defineTask({
        id: 'good',
        params: z.object({ d: z.date(), s: z.set(z.string()), m: z.map(z.string(), z.bigint()), url: z.instanceof(URL).transform((u) => u.href) }),
        command,
      }),
    ).not.toThrow();
  });

  it('records where it was called', () => {
    const task = defineTask({ id: 'here', params: z.object({}), command });
    expect(task.definedAt).toMatch(/defineTask\.test\.ts:\d+:\d+$/);
  });
});

describe('one task id, one definition', () => {
  it('refuses a second, different task with an id already submitted, naming both places', () => {
    const first = defineTask({ id: 'twice-defined', params: z.object({}), command });
    const second = defineTask({ id: 'twice-defined', params: z.object({ x: z.number() }), command });
    claimTaskId(first);
    claimTaskId(first);
    const attempt = () => claimTaskId(second);
    expect(attempt).toThrow(UserInputError);
    expect(attempt).toThrow(`Two different tasks have the id "twice-defined": one defined at ${first.definedAt}, the other at ${second.definedAt}`);
  });

  it('accepts the same definition loaded twice (same place, another object)', () => {
    const make = () => defineTask({ id: 'loaded-twice', params: z.object({}), command });
    const a = make();
    const b = make();
    expect(a).not.toBe(b);
    claimTaskId(a);
    expect(() => claimTaskId(b)).not.toThrow();
  });
});
