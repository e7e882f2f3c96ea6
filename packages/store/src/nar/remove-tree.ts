// Removes a tree that a failed restore left, without recursion: a hostile
// archive may nest directories thousands deep, and Node's recursive rm then
// overflows the stack (measured at about 2000 levels under vitest).
import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';

const SLASH = Buffer.from('/');

/** Deletes `root` and everything under it; symlinks are removed, never followed. A missing root is fine. */
export function removeTree(root: Buffer): void {
  const stack: { path: Buffer; listed: boolean }[] = [{ path: root, listed: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const stat = lstatSync(top.path, { throwIfNoEntry: false });
    if (stat === undefined) {
      stack.pop();
    } else if (!stat.isDirectory()) {
      unlinkSync(top.path);
      stack.pop();
    } else if (!top.listed) {
      top.listed = true;
      for (const name of readdirSync(top.path, { encoding: 'buffer' }))
        stack.push({ path: Buffer.concat([top.path, SLASH, name]), listed: false });
    } else {
      rmdirSync(top.path);
      stack.pop();
    }
  }
}
