// Load generator of the coordinator benchmark, run as a child process so that
// its HTTP client work and memory are not counted against the coordinator:
// agents call fetch-builds over loopback HTTP (keep-alive), each with at most
// one request in flight, either at a fixed offered rate (open loop) or as fast
// as a fixed number of requests in flight allows (closed loop).
import { Agent, request } from 'node:http';

/** What the parent sends. */
export interface LoadPlan {
  readonly url: string;
  readonly agents: readonly { readonly id: string; readonly auth: string; readonly system: string }[];
  /** Builds asked per call. */
  readonly count: number;
  readonly durationMs: number;
  /** Open loop: calls per second offered. */
  readonly rate?: number;
  /** Closed loop: calls in flight. */
  readonly concurrency?: number;
}

/** What the child answers. */
export interface LoadResult {
  readonly latenciesMs: number[];
  readonly allocated: number;
  readonly calls: number;
  readonly errors: number;
  /** What the errors were (HTTP status and error code, or the exception's message), with their counts. */
  readonly errorKinds: Record<string, number>;
  readonly elapsedMs: number;
  /** Open loop: calls not sent because every agent was still waiting. */
  readonly skipped: number;
}

const http = new Agent({ keepAlive: true, maxSockets: 2048 });

function call(url: URL, agent: LoadPlan['agents'][number], count: number): Promise<{ status: number; builds: number; text: string }> {
  const body = JSON.stringify({ count, systems: [agent.system] });
  return new Promise((resolve, reject) => {
    const req = request({ agent: http, host: url.hostname, port: url.port, method: 'POST', path: `/agent/${agent.id}/fetch-builds`,
      headers: { Authorization: agent.auth, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, builds: res.statusCode === 200 ? (JSON.parse(text) as { builds: unknown[] }).builds.length : 0, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(plan.url);
  const latenciesMs: number[] = [];
  let allocated = 0, calls = 0, errors = 0, skipped = 0;
  const errorKinds: Record<string, number> = {};
  const failed = (kind: string) => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  const idle = [...plan.agents];
  const one = async (a: LoadPlan['agents'][number]) => {
    const t = performance.now();
    try {
      const r = await call(url, a, plan.count);
      if (r.status !== 200) failed(`HTTP ${r.status} ${/"code":"([^"]+)"/.exec(r.text)?.[1] ?? r.text.slice(0, 80)}`);
      allocated += r.builds;
    } catch (error) {
      failed(String((error as Error).message).slice(0, 80));
    }
    latenciesMs.push(performance.now() - t);
    calls++;
  };
  const t0 = performance.now();
  const end = t0 + plan.durationMs;
  if (plan.concurrency !== undefined) {
    await Promise.all(Array.from({ length: plan.concurrency }, async () => {
      while (performance.now() < end) {
        const a = idle.shift()!;
        await one(a);
        idle.push(a);
      }
    }));
  } else {
    const rate = plan.rate ?? 100;
    const pending = new Set<Promise<void>>();
    let sent = 0;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; sent < due; sent++) {
        const a = idle.shift();
        if (a === undefined) { skipped++; continue; }
        const p = one(a).then(() => { idle.push(a); pending.delete(p); });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
  }
  return { latenciesMs, allocated, calls, errors, errorKinds, elapsedMs: performance.now() - t0, skipped };
}

process.once('message', (plan: LoadPlan) => {
  void run(plan).then((result) => {
    process.send!(result, () => process.exit(0));
  });
});
