// Reads `key=value` tags given on the command line.
import type { Tag } from '@gbc/protocol';
import { CliError, ExitCode } from '../errors.js';

/** Parses `key=value` strings (the value may contain `=`); a key given twice is refused. */
export function parseTags(items: readonly string[]): Tag[] {
  const tags: Tag[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError('bad-tag', `tag "${item}" must be written key=value`, ExitCode.usage);
    const key = item.slice(0, eq);
    if (tags.some((t) => t.key === key))
      throw new CliError('bad-tag', `tag key "${key}" is given twice`, ExitCode.usage);
    tags.push({ key, value: item.slice(eq + 1) });
  }
  return tags;
}

/** Writes tags as `key=value` separated by spaces. */
export function formatTags(tags: readonly Tag[]): string {
  return tags.map((t) => `${t.key}=${t.value}`).join(' ');
}
