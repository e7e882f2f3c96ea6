/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The page shell every dashboard page shares: head (the coordinator's own
// stylesheet and script, nothing from elsewhere), a navigation bar of real
// links, who is logged in, and a `main` that the live script may refresh.
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { assetUrl } from './assets.js';
import type { Session } from './sessions.js';
import { WEB_BASE } from './web-env.js';

/** The navigation bar's sections. */
export type Section = 'overview' | 'builds' | 'agents' | 'plan' | 'hooks' | 'login' | 'error';

const NAV: readonly (readonly [Section, string, string])[] = [
  ['overview', 'Overview', WEB_BASE],
  ['builds', 'Builds', `${WEB_BASE}/builds`],
  ['agents', 'Agents', `${WEB_BASE}/agents`],
  ['plan', 'Allocation plan', `${WEB_BASE}/allocation-plan`],
  ['hooks', 'Hooks', `${WEB_BASE}/hooks`],
];

/** Properties of {@link Page}. */
export interface PageProps {
  readonly title: string;
  readonly section: Section;
  /** Absent on the login and error pages of a browser without a session. */
  readonly session?: Session | undefined;
  /**
   * `refresh`: the live script reloads `main` when events arrive (filtered
   * by `liveQuery`, an /events query string); `build`: it follows one build.
   */
  readonly live?: 'refresh' | 'build';
  readonly liveQuery?: string;
  readonly children?: Child;
}

/** A whole HTML page. */
export function Page(props: PageProps) {
  // The doctype keeps browsers out of quirks mode; JSX cannot write it.
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · gbc`}</title>
          <link rel="stylesheet" href={assetUrl('style')} />
          <script src={assetUrl('script')} defer />
        </head>
        <body data-live={props.live} data-live-query={props.liveQuery}>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header>
            <nav aria-label="Sections">
              <a class="brand" href={WEB_BASE}>
                gbc
              </a>
              {NAV.map(([section, label, href]) => (
                <a href={href} aria-current={section === props.section ? 'page' : undefined}>
                  {label}
                </a>
              ))}
            </nav>
            {props.session === undefined ? null : <Who session={props.session} />}
          </header>
          <main id="main" tabindex={-1}>
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

function Who({ session }: { session: Session }) {
  if (session.tokenName === null)
    return (
      <p class="who">
        {session.scope === 'read' ? 'read-only view' : 'client auth is off: everyone may act'}
      </p>
    );
  return (
    <form class="who" method="post" action={`${WEB_BASE}/logout`}>
      <span>
        {session.tokenName} ({session.scope === 'read-write' ? 'read-write' : 'read-only'})
      </span>
      <input type="hidden" name="_csrf" value={session.csrf} />
      <button type="submit">Log out</button>
    </form>
  );
}
