// The README's quick start, run as written: the ```sh quickstart block of
// README.md is extracted and run by bash from the repository root (errors
// stop it), its background processes ended by the harness whatever happens.
// The demo listens on the default ports 8745 and 8746.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** The body of the one fenced block opened with "```sh quickstart". */
function quickStartBlock(readme: string): string {
  const blocks = [...readme.matchAll(/^```sh quickstart\n([\s\S]*?)^```$/gm)];
  if (blocks.length !== 1)
    throw new Error(`README.md must hold exactly one \`\`\`sh quickstart block, found ${blocks.length}`);
  return blocks[0]![1]!;
}

describe('the README quick start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-quickstart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as written: a coordinator, an agent, a build, its log, and its output substituted from the cache', async () => {
    const block = quickStartBlock(readFileSync(join(REPO, 'README.md'), 'utf8'));
    expect(block).toContain('gbc submit-build');
    const logFile = join(dir, 'quickstart.log');
    const log = openSync(logFile, 'w');
    // The harness's trap ends the block's background jobs (coordinator, agent) even when a command fails.
    const script = `set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${block}`;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GBC_')) env[k] = v;
    const child = spawn('bash', ['-c', script], {
      cwd: REPO,
      env: { ...env, TMPDIR: dir, NO_COLOR: '1' },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const code = await new Promise<number>((resolve) =>
      child.on('exit', (c, signal) => resolve(c ?? (signal === null ? -1 : 128))),
    );
    const output = readFileSync(logFile, 'utf8');
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/^[0-9a-f-]{36} succeeded$/m);
    expect(output).toContain('hello from gbc\n');
    expect(output).toMatch(
      /copying path '\/nix\/store\/[a-z0-9]{32}-hello-gbc' from 'http:\/\/127\.0\.0\.1:8745'/,
    );
    expect(output).toMatch(/\nhello\n$/);
  }, 240_000);
});
