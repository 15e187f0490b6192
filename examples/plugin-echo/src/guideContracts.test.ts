// The contracts docs/plugins.md quotes for reference (`interface Launcher { ... }`,
// `LaunchHandle`, `ServiceContext`...) list the members of core's interfaces of the
// same name in packages/core/src/types.ts: a member added to or removed from a
// contract fails here until the guide says it too. (The example's own code is
// checked whole by guideMatchesExample.test.ts.)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GUIDE = 'docs/plugins.md';
const CONTRACTS = 'packages/core/src/types.ts';

/** `interface Name<...> extends ... {`, with or without `export`. */
const INTERFACE_START = /^(?:export )?interface (\w+)\b[^{]*\{\s*$/;
/** A member at the interface's own indentation: `name:`, `name?:`, `readonly name`, `name(`, `name?(`. */
const MEMBER = /^ {2}(?:readonly )?(\w+)(\?)?[(:<]/;

describe(`${GUIDE} quotes the contracts of ${CONTRACTS}`, async () => {
  const guide = await readFile(`${REPO}${GUIDE}`, 'utf8');
  const contracts = interfaces(await readFile(`${REPO}${CONTRACTS}`, 'utf8'));
  const quoted = interfaces(codeBlocks(guide).join('\n'));

  it('quotes the contracts a plugin implements or receives', () => {
    expect([...quoted.keys()].sort()).toEqual(
      ['Launcher', 'LaunchRequest', 'LaunchHandle', 'LaunchStatus', 'LauncherContext', 'LauncherFactory', 'PluginDefinition', 'ServiceContext', 'ServiceFactory', 'ServiceFactoryContext'].sort(),
    );
  });

  it.each([...quoted.keys()])('interface %s lists the members core declares', (name) => {
    expect(contracts.has(name), `${CONTRACTS} declares interface ${name}`).toBe(true);
    expect([...quoted.get(name)!].sort(), `members of ${name} in ${GUIDE} against ${CONTRACTS}`).toEqual([...contracts.get(name)!].sort());
  });
});

describe(`the connector table of ${GUIDE} against interface Connector of ${CONTRACTS}`, async () => {
  const guide = await readFile(`${REPO}${GUIDE}`, 'utf8');
  const connector = interfaces(await readFile(`${REPO}${CONTRACTS}`, 'utf8'), { optional: false }).get('Connector') ?? [];
  const everyMember = interfaces(await readFile(`${REPO}${CONTRACTS}`, 'utf8')).get('Connector') ?? [];
  const section = /^## The connector[^\n]*\n([\s\S]*?)^## /m.exec(guide)?.[1] ?? '';
  // The first cell of each row, its remarks in parentheses left out: `run(argv, { cwd, ... })`, `readFile`, `mkdir` (recursive; ...)...
  const named = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split(' | ')[0] ?? '').replace(/ \([^)]*\)/g, '').matchAll(/`(\w+)/g)].map((match) => match[1]!));

  it('names every required member, and only members', () => {
    expect(connector.filter((member) => !named.includes(member)), 'required members the table leaves out').toEqual([]);
    expect(named.filter((member) => !everyMember.includes(member)), 'names in the table that Connector does not have').toEqual([]);
  });
});

/** Interface name → its members' names (optional ones too unless `optional: false`), for every interface in a TypeScript text. */
function interfaces(text: string, options: { optional?: boolean } = {}): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const name = INTERFACE_START.exec(lines[index]!)?.[1];
    if (!name) continue;
    const members: string[] = [];
    for (index++; index < lines.length && lines[index] !== '}'; index++) {
      const member = MEMBER.exec(lines[index]!);
      if (member && (options.optional !== false || member[2] !== '?')) members.push(member[1]!);
    }
    found.set(name, members);
  }
  return found;
}

/** The bodies of the Markdown's fenced TypeScript blocks, but those that show a file of the example. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!).filter((body) => !/^\/\/ [\w.@-]+\/\S+\.\w+/.test(body));
}
