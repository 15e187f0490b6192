import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SETTINGS_SCHEMA_ID, settingsJsonSchema } from './settingsJsonSchema.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('settings JSON schema', () => {
  it('packages/core/settings.schema.json matches the schema (else: run node scripts/generate-settings-schema.mjs)', async () => {
    // The script regenerates the schema in memory, with the built-in plugins' launcher settings, and compares.
    const result = await promisify(execFile)(process.execPath, [join(REPO, 'scripts', 'generate-settings-schema.mjs'), '--check'], { cwd: REPO }).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    // Both streams in the failure message: stderr says what to run, or why the script failed.
    expect({ stdout: result.stdout, stderr: result.stderr }).toMatchObject({ stdout: expect.stringContaining('is up to date') });
  });

  it('has a stable $id, or the one a plugin gives', () => {
    expect(settingsJsonSchema()).toMatchObject({ $id: 'https://baton.dev/schemas/settings.schema.json' });
    expect(SETTINGS_SCHEMA_ID).toBe('https://baton.dev/schemas/settings.schema.json');
    expect(settingsJsonSchema({ id: 'https://example.org/my-settings.schema.json' })).toMatchObject({ $id: 'https://example.org/my-settings.schema.json' });
  });

  it('describes launcher blocks: `use` required, each known kind with its own keys only', () => {
    const schema = settingsJsonSchema({ launcherKinds: { slurm: z.object({ partition: z.string() }) } }) as {
      $defs: { LauncherBlock: { anyOf: { properties: Record<string, unknown>; required: string[]; additionalProperties: unknown }[] } };
    };
    const [slurm, other] = schema.$defs.LauncherBlock.anyOf;
    expect(slurm).toMatchObject({ properties: { use: { const: 'slurm' }, partition: { type: 'string' } }, required: ['use', 'partition'], additionalProperties: false });
    expect(other).toMatchObject({ required: ['use'], properties: { use: { type: 'string', not: { enum: ['slurm'] } } } });
  });

  it('describes service blocks: core\'s `process` kind always, and the kinds passed in', () => {
    const schema = settingsJsonSchema({ serviceKinds: { board: z.object({ logdir: z.string() }) } }) as {
      $defs: { ServiceBlock: { anyOf: { properties: Record<string, unknown>; required: string[] }[] } };
    };
    const [board, processKind, other] = schema.$defs.ServiceBlock.anyOf;
    expect(board).toMatchObject({ properties: { use: { const: 'board' }, logdir: { type: 'string' } }, required: ['use', 'logdir'] });
    expect(processKind).toMatchObject({ properties: { use: { const: 'process' }, command: { type: 'array' } }, required: ['use', 'command'] });
    expect(other).toMatchObject({ properties: { use: { not: { enum: ['board', 'process'] } } } });
  });
});
