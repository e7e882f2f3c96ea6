// Runs the README's library example (its one ```ts block) as a script from
// this package, so that its @gbc imports resolve from the sources; the
// script's standard output is returned.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** The body of README.md's only ```ts block. */
export function readmeLibraryExample(): string {
  const blocks = [...readFileSync(join(REPO, 'README.md'), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)];
  if (blocks.length !== 1)
    throw new Error(
      `README.md must hold exactly one \`\`\`ts block (the library example), found ${blocks.length}`,
    );
  return blocks[0]![1]!;
}

/** Runs the example with `args`, GBC_COORDINATOR=`clientUrl`; resolves to its stdout, rejects with its stderr. */
export async function runReadmeLibraryExample(clientUrl: string, args: readonly string[]): Promise<string> {
  // Written beside this file (deleted afterwards) so that node resolves @gbc/* from tests/e2e's dependencies.
  const file = fileURLToPath(new URL(`./.readme-example-${randomUUID()}.ts`, import.meta.url));
  writeFileSync(file, readmeLibraryExample());
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', file, ...args],
        {
          cwd: REPO,
          env: { ...process.env, GBC_COORDINATOR: clientUrl },
          timeout: 120_000,
        },
        (error, stdout, stderr) =>
          error === null
            ? resolve(stdout)
            : reject(new Error(`the README example failed: ${error.message}\n${stderr}`)),
      );
    });
  } finally {
    rmSync(file, { force: true });
  }
}
