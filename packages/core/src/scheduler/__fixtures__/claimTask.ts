// The task of the claim race tests, shared by the test and its driver process.
import { z } from 'zod';
import { defineTask } from '../../task/defineTask.ts';

export const claimed = defineTask({ id: 'claimed', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });
