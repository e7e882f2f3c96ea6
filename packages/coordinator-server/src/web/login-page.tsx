/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The login form (a client token in a password field, sent by POST: never in
// a URL) and the error page.
import { Page } from './layout.js';
import { ErrorNote } from './parts.js';
import type { Session } from './sessions.js';
import { WEB_BASE } from './web-env.js';

/** The login page; `next` is where to go after it (a dashboard path). */
export function LoginPage({ next, error }: { next: string; error?: string | undefined }) {
  return (
    <Page title="Log in" section="login">
      <div class="login card">
        {error === undefined ? null : <ErrorNote message={error} />}
        <p>
          Paste a client token (<code>gbc client-token new NAME --read-only</code> on the coordinator host
          makes one). A read-only token shows the farm; a read-write token may also cancel builds and change
          their priority.
        </p>
        <form method="post" action={`${WEB_BASE}/login`}>
          <input type="hidden" name="next" value={next} />
          <label>
            Client token
            <input name="token" type="password" autocomplete="current-password" required autofocus />
          </label>
          <button type="submit">Log in</button>
        </form>
      </div>
    </Page>
  );
}

/** A page that says what went wrong and where to go. */
export function ErrorPage({
  status,
  message,
  session,
}: {
  status: number;
  message: string;
  session?: Session;
}) {
  return (
    <Page title={status === 404 ? 'Not found' : `Error ${status}`} section="error" session={session}>
      <ErrorNote message={message} />
      <p>
        <a href={WEB_BASE}>Back to the overview</a>
      </p>
    </Page>
  );
}
