// Loads the user's experiment module and finds the defineExperiment(...) result in it.
import { BatonError, UserInputError, importUserModule, isBatonError, isExperimentDefinition } from '@baton/core';
import type { ExperimentDefinition } from '@baton/core';

export async function loadExperimentDefinition(options: { path: string }): Promise<ExperimentDefinition> {
  const { path } = options;
  let namespace: Record<string, unknown>;
  try {
    // tsx is registered in this process only when the module (or one it imports) is
    // TypeScript; the module then shares this process's @baton/core.
    namespace = await importUserModule(path);
  } catch (error) {
    // Already said as what to change (a module loaded as CommonJS).
    if (isBatonError(error)) throw error;
    throw new BatonError(`Could not load the experiment module: ${(error as Error).message}`, {
      where: path,
      hint: 'fix the error in the module (run again with --debug for the stack trace)',
      cause: error,
    });
  }
  // A .ts file compiled as CommonJS delivers `export default` as `module.exports.default`.
  const defaultExport = namespace.default;
  const candidates = [defaultExport, (defaultExport as Record<string, unknown> | undefined)?.default, namespace.run];
  const definition = candidates.find((candidate) => isExperimentDefinition(candidate));
  if (definition) return definition as ExperimentDefinition;
  throw new UserInputError(`${path} does not export an experiment`, {
    where: path,
    hint: "export one: `export default defineExperiment({ run(helper, configuration) { ... } })` (defineExperiment from '@baton/core')",
  });
}
