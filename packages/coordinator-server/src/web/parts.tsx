/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Small pieces the dashboard's pages share: state badges, times, tags,
// links to builds and agents, error notes.
import type { Child } from 'hono/jsx';
import { WEB_BASE } from './web-env.js';

/** A build state as a coloured badge. */
export function StateBadge({ state }: { state: string }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

/** An ISO time as a `<time>` element, shown in UTC to the second. */
export function Time({ at }: { at: string | null }) {
  if (at === null) return <span class="muted">—</span>;
  return <time datetime={at}>{at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>;
}

/** How an attempt ended (`running` while it has not) and the reason it failed, if it did. */
export function AttemptOutcome({
  result,
  failureReason,
  endedAt,
}: {
  result: string | null;
  failureReason: string | null;
  endedAt: string | null;
}) {
  return (
    <>
      {result === null ? (
        <span class="muted">{endedAt === null ? 'running' : 'ended'}</span>
      ) : (
        <span class={result === 'success' ? 'state-succeeded' : 'state-failed'}>{result}</span>
      )}
      {failureReason === null ? null : <div class="muted">{failureReason}</div>}
    </>
  );
}

/** A card titled `title` holding a table with `headers` and the rows `children`, or `empty` when there are none. */
export function TableCard({
  part,
  title,
  headers,
  empty,
  children,
}: {
  part: string;
  title: string;
  headers: readonly string[];
  empty: string;
  children: Child[];
}) {
  return (
    <section class="card" data-part={part} aria-labelledby={`${part}-h`}>
      <h2 id={`${part}-h`}>{title}</h2>
      {children.length === 0 ? (
        <p class="muted">{empty}</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                {headers.map((h) => (
                  <th>{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>{children}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Tags as little labels. */
export function Tags({ tags }: { tags: readonly { key: string; value: string }[] }) {
  if (tags.length === 0) return <span class="muted">none</span>;
  return (
    <>
      {tags.map((t) => (
        <span class="tag">
          {t.key}={t.value}
        </span>
      ))}
    </>
  );
}

/**
 * A short label for a UUID: its last 8 digits (version 7 UUIDs, which the
 * coordinator makes, begin with their time, so their starts look alike).
 */
export function shortId(uuid: string): string {
  return `…${uuid.slice(-8)}`;
}

/** A link to a build's page, labelled with {@link shortId} (the whole UUID in its title). */
export function BuildLink({ uuid, children }: { uuid: string; children?: Child }) {
  return (
    <a class="mono" href={`${WEB_BASE}/build/${encodeURIComponent(uuid)}`} title={uuid}>
      {children ?? shortId(uuid)}
    </a>
  );
}

/** A link to an agent's page, labelled with its name when known. */
export function AgentLink({ uuid, name }: { uuid: string; name?: string | undefined }) {
  return (
    <a href={`${WEB_BASE}/agent/${encodeURIComponent(uuid)}`} title={uuid}>
      {name ?? shortId(uuid)}
    </a>
  );
}

/** The name part of a store path (`/nix/store/<hash>-hello.drv` → `hello.drv`). */
export function storeName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.length > 33 && base[32] === '-' ? base.slice(33) : base;
}

/** An error shown in a page (an API refusal, a bad filter). */
export function ErrorNote({ message }: { message: string }) {
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

/** Bytes in binary units. */
export function formatBytes(n: number | null): string {
  if (n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
