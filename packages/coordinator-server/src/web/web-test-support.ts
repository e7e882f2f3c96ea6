// Test support for the dashboard's tests (not exported): a browser's side of
// the conversation through `clientApp.request()`: a cookie jar of one
// session, form posts, and the CSRF token read from a page.
import type { Coordinator } from '../coordinator/create-coordinator.js';

/** One browser talking to the coordinator's client app. */
export interface TestBrowser {
  /** GET with the session cookie (if any); redirects are not followed. */
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** A form POST with the session cookie and, unless `headers` says otherwise, this host's Origin. */
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** Logs in with `token`; returns the answer. */
  login(token: string, next?: string): Promise<Response>;
  /** The CSRF token in `html`'s forms. */
  csrfOf(html: string): string;
  /** The session cookie's value, if any. */
  readonly cookie: string | undefined;
}

const ORIGIN = 'http://localhost';

/** A browser with an empty cookie jar. */
export function createTestBrowser(c: Coordinator): TestBrowser {
  let cookie: string | undefined;
  const remember = (res: Response): Response => {
    for (const line of res.headers.getSetCookie()) {
      const m = /^gbc_session=([^;]*)/.exec(line);
      if (m !== null) cookie = m[1] === '' ? undefined : m[1];
    }
    return res;
  };
  const withCookie = (headers: Record<string, string>): Record<string, string> =>
    cookie === undefined ? headers : { Cookie: `gbc_session=${cookie}`, ...headers };
  const browser: TestBrowser = {
    get cookie() {
      return cookie;
    },
    async get(path, headers = {}) {
      return remember(await c.clientApp.request(`${ORIGIN}${path}`, { headers: withCookie(headers) }));
    },
    async post(path, form, headers = { Origin: ORIGIN }) {
      return remember(
        await c.clientApp.request(`${ORIGIN}${path}`, {
          method: 'POST',
          headers: withCookie({ 'Content-Type': 'application/x-www-form-urlencoded', ...headers }),
          body: new URLSearchParams(form).toString(),
        }),
      );
    },
    login(token, next = '/ui') {
      return browser.post('/ui/login', { token, next });
    },
    csrfOf(html) {
      const m = /name="_csrf" value="([^"]+)"/.exec(html);
      if (m === null) throw new Error('the page has no form with a CSRF token');
      return m[1]!;
    },
  };
  return browser;
}
