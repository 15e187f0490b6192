// The plugin author's guide (docs/plugins.md) shows the code of this example, and only
// that: every code block whose first line is a comment naming a file of the repository
// (`// examples/plugin-echo/src/echoLauncher.ts`) must be that file, whole, or one part of
// it (`… (continued)` for the next parts, which follow in order and make up the file,
// parts separated by one blank line). The example's own tests run the code, so the
// guide cannot show code that does not work; changing either alone fails here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GUIDE = 'docs/plugins.md';

/** The example's files the guide walks through, in the order it shows them. */
const WALKED_THROUGH = [
  'examples/plugin-echo/package.json',
  'examples/plugin-echo/tsconfig.json',
  'examples/plugin-echo/src/index.ts',
  'examples/plugin-echo/src/echoSettings.ts',
  'examples/plugin-echo/src/echoLauncher.ts',
  'examples/plugin-echo/src/echoService.ts',
  'examples/plugin-echo/vitest.config.ts',
  'examples/plugin-echo/src/echoLauncher.conformance.test.ts',
  'examples/plugin-echo/src/echoService.test.ts',
];

/** `// path` or `# path`, then ` (continued)` on the parts after the first. */
const FILE_NAME_LINE = /^(?:\/\/|#) ([\w.@-]+(?:\/[\w.@-]+)+\.\w+)( \(continued\))?$/;

interface ShownPart {
  path: string;
  continued: boolean;
  /** The block's text after its name line. */
  text: string;
  /** Line of the guide where the block starts, for messages. */
  line: number;
}

describe(`${GUIDE} shows the example's code`, async () => {
  const guide = await readFile(join(REPO, GUIDE), 'utf8');
  const parts = shownParts(guide);
  const byFile = new Map<string, ShownPart[]>();
  for (const part of parts) byFile.set(part.path, [...(byFile.get(part.path) ?? []), part]);

  it('walks through the example files, each named on the first line of its code block', () => {
    expect([...byFile.keys()]).toEqual(WALKED_THROUGH);
  });

  it.each([...byFile.keys()])('%s: the guide shows the file whole', async (path) => {
    const shown = byFile.get(path)!;
    const where = shown.map((part) => `${GUIDE}:${part.line}`).join(', ');
    expect(
      shown.map((part) => part.continued),
      `the first block of ${path} names it alone, the next ones "${path} (continued)" (${where})`,
    ).toEqual(shown.map((_, index) => index > 0));
    const file = await readFile(join(REPO, path), 'utf8').catch(() => `(${path} does not exist)`);
    const joined = `${shown.map((part) => part.text).join('\n\n')}\n`;
    expect(joined, `the code blocks of ${path} in ${GUIDE} (${where}) differ from the file: copy the file into them, or change both`).toBe(file);
  });
});

/** The fenced code blocks of a Markdown text whose first line names a file. */
function shownParts(markdown: string): ShownPart[] {
  const parts: ShownPart[] = [];
  const lines = markdown.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(`{3,})\w*\s*$/.exec(lines[index]!);
    if (!fence) continue;
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && lines[index] !== fence[1]; index++) body.push(lines[index]!);
    const named = FILE_NAME_LINE.exec(body[0] ?? '');
    if (named) parts.push({ path: named[1]!, continued: named[2] !== undefined, text: body.slice(1).join('\n'), line: start + 1 });
  }
  return parts;
}
