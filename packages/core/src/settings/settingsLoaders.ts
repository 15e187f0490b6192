// cosmiconfig loaders for settings files: YAML and JSON with line:column in errors
// (JSON is read as YAML, of which it is a subset; Node 20's JSON.parse gives no
// position), and TS/JS through tsx (cosmiconfig's own TS loader needs `typescript`).
import { UserInputError } from '../errors.ts';
import { importDefault } from '../util/importUserModule.ts';
import { lazyModule } from '../util/lazyModule.ts';
import { describeYamlSyntaxError } from '../util/yamlSyntaxError.ts';

/** A cosmiconfig loader (its `Loader` type, which the published declarations may not name: cosmiconfig is vendored). */
type Loader = (filepath: string, content: string) => unknown;

const yaml = lazyModule<typeof import('yaml')>('yaml', { vendored: true });

export const loadDataSettings: Loader = (filepath, content) => {
  const document = yaml().parseDocument(content, { prettyErrors: true, uniqueKeys: true });
  const error = document.errors[0];
  if (error) {
    const { line, col, message } = describeYamlSyntaxError({ error, text: content });
    const location = line === undefined ? filepath : `${filepath}:${line}:${col}`;
    const format = filepath.endsWith('.json') ? 'JSON' : 'YAML';
    throw new UserInputError(`Malformed ${format} in settings file ${location}: ${message}`, {
      where: location,
      hint: `Fix the ${format} at that line and column (indentation, a missing ":" or an unclosed quote or bracket are the usual causes).`,
      cause: error,
    });
  }
  return document.toJS() as unknown;
};

export const loadScriptSettings: Loader = async (filepath) => {
  let value = await importDefault({ path: filepath });
  // `export default () => ({...})` lets a settings file compute its settings.
  if (typeof value === 'function') value = await (value as () => unknown)();
  return value;
};
