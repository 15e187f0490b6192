// Plain node, no loader: import @baton/core, use defineTask, read the settings JSON
// schema through its export. Prints what it found, as JSON.
import { defineTask, isTask } from '@baton/core';
import schema from '@baton/core/settings.schema.json' with { type: 'json' };
import { z } from 'zod';

const task = defineTask({ id: 'plain-node', params: z.object({ n: z.number().default(1) }), command: ({ n }) => ['echo', String(n)] });
const argv = task.command?.(task.params.parse({}), { directory: process.cwd() });
console.log(JSON.stringify({ id: task.id, isTask: isTask(task), argv, schemaId: schema.$id }));
