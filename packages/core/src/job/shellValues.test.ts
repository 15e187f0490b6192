import { describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { checkArgv, checkEnvironment } from './shellValues.ts';

describe('values that reach job.sh', () => {
  it('refuses a NUL byte in an argv element or an environment value', () => {
    expect(() => checkArgv(['echo', 'a\0b'], 'here')).toThrow(/Argument 1 of the command contains a NUL byte/);
    expect(() => checkEnvironment({ OK: 'x', BAD: 'a\0' }, 'here')).toThrow(/Environment variable BAD contains a NUL byte/);
    expect(() => checkArgv(['echo', 'a\0b'], 'here')).toThrow(UserInputError);
  });

  it('refuses invalid environment names and non-string values or arguments', () => {
    for (const name of ['1X', 'A-B', 'A B', '', 'É']) expect(() => checkEnvironment({ [name]: 'v' }, 'here')).toThrow(/Invalid environment variable name/);
    expect(() => checkEnvironment({ N: 3 }, 'here')).toThrow(/N is a number, not a string/);
    expect(() => checkArgv(['sleep', 3], 'here')).toThrow(/Argument 1 of the command is a number/);
    expect(() => checkArgv([], 'here')).toThrow(/The command is empty/);
  });

  it('accepts everything else verbatim', () => {
    expect(() => checkArgv(['sh', '-c', `'; rm -rf ~; $(x) \n é ✓`], 'here')).not.toThrow();
    expect(() => checkEnvironment({ _A1: '', PATH: '/bin:$PATH\n' }, 'here')).not.toThrow();
  });
});
