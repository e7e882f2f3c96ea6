// A one-line progress bar on a terminal's standard error for submissions;
// nothing at all when standard error is not a terminal.
import type { SubmitProgress } from './submit-derivations.js';

/** A progress callback and a way to clear the line at the end. */
export interface ProgressBar {
  readonly update: (progress: SubmitProgress) => void;
  done(): void;
}

const WIDTH = 24;

/** A progress bar writing to `stream` when it is a TTY; otherwise a no-op. */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (stream.isTTY !== true) return { update: () => undefined, done: () => undefined };
  let drawn = false;
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      // Redraw at most every 50 ms, but always the end of a phase.
      if (p.done !== p.total && now - last < 50) return;
      last = now;
      const ratio = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
      const filled = Math.round(ratio * WIDTH);
      const bar = p.phase === 'reading' ? '' : `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] `;
      const count = p.phase === 'reading' ? `${p.done}` : `${p.done}/${p.total}`;
      stream.write(`\r\x1b[2K${bar}${count} ${labels[p.phase]}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

const labels: Record<SubmitProgress['phase'], string> = {
  reading: 'derivations read',
  sources: 'sources uploaded',
  derivations: 'derivations uploaded',
  builds: 'builds submitted',
};
