// A coordinator reachable at several URLs: the processes of one coordinator
// sharing a PostgreSQL database, any of which serves every request. A client
// given `http://a:8745,http://b:8745` uses one URL at a time and moves on to
// the next when that one cannot be reached or answers 502, 503 or 504 (a proxy
// with no backend, a process stopping); it keeps the URL that works. One URL
// is the common case and behaves as before.

/** Statuses that say "this process cannot serve now; another may". */
const UNAVAILABLE = new Set([502, 503, 504]);

/** Error codes of a connection that never reached a server: nothing was received, so any request can go elsewhere. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** The base URLs of a client, in order, with the one in use. */
export class BaseUrls {
  readonly #urls: readonly string[];
  #current = 0;

  /** `baseUrl`: one URL, or several separated by commas (spaces around them are ignored). */
  constructor(baseUrl: string | URL) {
    const urls = String(baseUrl)
      .split(',')
      .map((u) => u.trim().replace(/\/+$/, ''))
      .filter((u) => u !== '');
    if (urls.length === 0) throw new TypeError(`no coordinator URL in ${JSON.stringify(String(baseUrl))}`);
    for (const u of urls)
      if (!URL.canParse(u))
        throw new TypeError(`not a URL: ${JSON.stringify(u)} (several URLs are separated by commas)`);
    this.#urls = urls;
  }

  /** How many URLs there are. */
  get size(): number {
    return this.#urls.length;
  }

  /** The URL in use. */
  current(): string {
    return this.#urls[this.#current]!;
  }

  /** `url` failed: when it is still the one in use, the next one is used from now on. */
  failed(url: string): void {
    if (this.#urls[this.#current] === url) this.#current = (this.#current + 1) % this.#urls.length;
  }

  /** Whether an answer's status moves the client to the next URL. */
  static unavailable(status: number): boolean {
    return UNAVAILABLE.has(status);
  }

  /** Whether a transport error happened before anything reached a server (safe to send anywhere else at once). */
  static neverConnected(error: unknown): boolean {
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && NEVER_CONNECTED.has(code)) return true;
    }
    return false;
  }
}
