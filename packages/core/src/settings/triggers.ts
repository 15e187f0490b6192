// Workspace triggers: a glob (`*`, `?`) or a `/regular expression/flags` matched
// against the whole experiment id (regular expressions may match a part of it).

/** Compiles a trigger; throws an Error saying why when a regular expression is invalid. */
export function compileTrigger(trigger: string): RegExp {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(trigger);
  if (regex) return new RegExp(regex[1] as string, regex[2]);
  const body = [...trigger].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : escapeRegExp(char))).join('');
  return new RegExp(`^${body}$`);
}

export function matchesTrigger(options: { triggers: readonly string[]; experimentId: string }): boolean {
  return options.triggers.some((trigger) => compileTrigger(trigger).test(options.experimentId));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
