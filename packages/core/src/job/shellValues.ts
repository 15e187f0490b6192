// What may reach job.sh: argv elements and environment values are strings
// without NUL (a C string ends at NUL, so the program would receive something
// else), environment names are shell names. Checked where the values enter
// (submit, setenv), before anything is written; jobScript.ts keeps its own
// check as a safety net.
import { UserInputError } from '../errors.ts';

export const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Refuses an environment (name → value) that job.sh could not export as given. */
export function checkEnvironment(env: Record<string, unknown>, where: string): void {
  for (const [name, value] of Object.entries(env)) checkEnvironmentVariable(name, value, where);
}

export function checkEnvironmentVariable(name: string, value: unknown, where: string): void {
  if (!ENVIRONMENT_NAME.test(name)) {
    throw new UserInputError(`Invalid environment variable name ${JSON.stringify(name)}`, {
      where,
      hint: 'a name is letters, digits and "_", not starting with a digit',
    });
  }
  if (typeof value !== 'string') {
    throw new UserInputError(`Environment variable ${name} is ${value === null ? 'null' : `a ${typeof value}`}, not a string`, {
      where,
      hint: `give a string, e.g. ${name}: "${String(value)}"`,
    });
  }
  if (value.includes('\0')) {
    throw new UserInputError(`Environment variable ${name} contains a NUL byte (at ${value.indexOf('\0')})`, {
      where,
      hint: 'an environment value cannot hold NUL; remove it, or pass binary data in a file',
    });
  }
}

/** Refuses a command task's argv that would not reach the program as given. */
export function checkArgv(argv: readonly unknown[], where: string): void {
  if (argv.length === 0) {
    throw new UserInputError('The command is empty', { where, hint: 'return at least the program to run, e.g. ["python", "train.py"]' });
  }
  argv.forEach((element, i) => {
    if (typeof element !== 'string') {
      throw new UserInputError(`Argument ${i} of the command is ${element === null ? 'null' : `a ${typeof element}`}, not a string`, {
        where,
        hint: `convert it, e.g. String(value)`,
      });
    }
    if (element.includes('\0')) {
      throw new UserInputError(`Argument ${i} of the command contains a NUL byte (at ${element.indexOf('\0')})`, {
        where,
        hint: 'a program argument cannot hold NUL; remove it, or pass the data in a file',
      });
    }
  });
}
