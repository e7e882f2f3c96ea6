// The dashboard reads and acts through the client API itself (an in-process
// request to the same Hono app, with the session's token as a bearer token):
// the pages show exactly what `gbc builds list`, `gbc build why`,
// `gbc allocation-plan` and `gbc hooks` show, and the API's authentication
// and scopes decide every action. Nothing goes over the network.

/** Hands a request to the client API (its `fetch`). */
export type ClientApiFetch = (request: Request) => Response | Promise<Response>;

/** An answer of the client API other than 2xx, with its error code and message. */
export class ApiCallError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
    this.code = code;
  }
}

/** Calls on the client API for one session. */
export interface ApiCaller {
  /** `GET path?query` as JSON. */
  get<T>(path: string, query?: URLSearchParams): Promise<T>;
  /** `POST path` with a JSON body, as JSON. */
  post<T>(path: string, body: unknown): Promise<T>;
  /** The raw response of `GET path?query` (streams: events, logs), aborted with `signal`. */
  stream(
    path: string,
    query: URLSearchParams,
    signal: AbortSignal,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

/** An ApiCaller that sends `secret` (when not null) as the bearer token. */
export function createApiCaller(fetch: ClientApiFetch, secret: string | null): ApiCaller {
  const headers = (extra: Record<string, string> = {}): Headers => {
    const h = new Headers(extra);
    if (secret !== null) h.set('Authorization', `Bearer ${secret}`);
    return h;
  };
  const url = (path: string, query?: URLSearchParams): string => {
    const q = query?.toString() ?? '';
    return `http://client-api${path}${q === '' ? '' : `?${q}`}`;
  };
  const json = async <T>(res: Response): Promise<T> => {
    if (res.ok) return (await res.json()) as T;
    throw await toError(res);
  };
  return {
    async get(path, query) {
      return json(await fetch(new Request(url(path, query), { headers: headers() })));
    },
    async post(path, body) {
      const init = {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify(body),
      };
      return json(await fetch(new Request(url(path), init)));
    },
    async stream(path, query, signal, extra) {
      const res = await fetch(new Request(url(path, query), { headers: headers(extra), signal }));
      if (!res.ok) throw await toError(res);
      return res;
    },
  };
}

async function toError(res: Response): Promise<ApiCallError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return new ApiCallError(res.status, body.error?.code ?? 'error', body.error?.message ?? text);
  } catch {
    return new ApiCallError(res.status, 'error', text.slice(0, 500));
  }
}
