// Load generator of the coordinator benchmark, run as a child process so that
// its HTTP client work and memory are not counted against the coordinator:
// agents call fetch-builds over loopback HTTP (keep-alive), each with at most
// one request in flight, either at a fixed offered rate (open loop) or as fast
// as a fixed number of requests in flight allows (closed loop).
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';

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
  /** Load run the same way before the measured phase, its results dropped (JIT, caches). */
  readonly warmupMs?: number;
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
  /** The load generator's own CPU time over the phase, µs. */
  readonly cpuUs: number;
}

// A minimal HTTP/1.1 client over one keep-alive socket per agent, with the
// request bytes built once: node:http's client cost ~140 µs of CPU per call,
// taken from the same two cores as the coordinator it measures.
interface Reply {
  status: number;
  builds: number;
  text: string;
}

interface Connection {
  /** Resolves once the socket is connected. */
  readonly ready: Promise<void>;
  call(): Promise<Reply>;
}

function connect(url: URL, agent: LoadPlan['agents'][number], count: number): Connection {
  const body = JSON.stringify({ count, systems: [agent.system] });
  const request = Buffer.from(
    `POST /agent/${agent.id}/fetch-builds HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${agent.auth}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
  );
  let socket: Socket | undefined;
  let waiting: { resolve(r: Reply): void; reject(e: Error): void } | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  const fail = (error: Error) => {
    socket?.destroy();
    socket = undefined;
    buffered = Buffer.alloc(0);
    const w = waiting;
    waiting = undefined;
    w?.reject(error);
  };
  const parse = () => {
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buffered.subarray(0, end).toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) return fail(new Error(`no Content-Length in the answer: ${head.split('\r\n')[0]}`));
    const total = end + 4 + Number(length[1]);
    if (buffered.length < total) return;
    const text = buffered.subarray(end + 4, total).toString('utf8');
    buffered = buffered.subarray(total);
    const w = waiting;
    waiting = undefined;
    w?.resolve({
      status,
      builds: status === 200 ? (JSON.parse(text) as { builds: unknown[] }).builds.length : 0,
      text,
    });
  };
  const open = (): Socket => {
    const s = createConnection({ host: url.hostname, port: Number(url.port) });
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      buffered = buffered.length === 0 ? d : Buffer.concat([buffered, d]);
      parse();
    });
    s.on('error', fail);
    s.on('close', () => {
      if (socket === s) fail(new Error('connection closed'));
    });
    return s;
  };
  socket = open();
  const ready = new Promise<void>((resolve, reject) => {
    socket!.once('connect', resolve);
    socket!.once('error', reject);
  });
  return {
    ready,
    call() {
      return new Promise<Reply>((resolve, reject) => {
        waiting = { resolve, reject };
        socket ??= open();
        socket.write(request);
      });
    },
  };
}

/** Connects every agent, then runs the warm-up (if any) and the measured phase over the same connections. */
async function run(plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(plan.url);
  const connections = new Map(plan.agents.map((a) => [a, connect(url, a, plan.count)]));
  await Promise.all([...connections.values()].map((c) => c.ready));
  if (plan.warmupMs !== undefined && plan.warmupMs > 0) await phase(plan, connections, plan.warmupMs);
  // The parent starts its own measures (CPU, event-loop delay) now.
  await new Promise<void>((resolve) => process.send!({ measuring: true }, () => resolve()));
  return phase(plan, connections, plan.durationMs);
}

async function phase(
  plan: LoadPlan,
  connections: ReadonlyMap<LoadPlan['agents'][number], Connection>,
  durationMs: number,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let allocated = 0,
    calls = 0,
    errors = 0,
    skipped = 0;
  const errorKinds: Record<string, number> = {};
  const failed = (kind: string) => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  const idle = [...plan.agents];
  const one = async (a: LoadPlan['agents'][number]) => {
    const t = performance.now();
    try {
      const r = await connections.get(a)!.call();
      if (r.status !== 200)
        failed(`HTTP ${r.status} ${/"code":"([^"]+)"/.exec(r.text)?.[1] ?? r.text.slice(0, 80)}`);
      allocated += r.builds;
    } catch (error) {
      failed(String((error as Error).message).slice(0, 80));
    }
    latenciesMs.push(performance.now() - t);
    calls++;
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  if (plan.concurrency !== undefined) {
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (performance.now() < end) {
          const a = idle.shift()!;
          await one(a);
          idle.push(a);
        }
      }),
    );
  } else {
    const rate = plan.rate ?? 100;
    const pending = new Set<Promise<void>>();
    let sent = 0;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; sent < due; sent++) {
        const a = idle.shift();
        if (a === undefined) {
          skipped++;
          continue;
        }
        const p = one(a).then(() => {
          idle.push(a);
          pending.delete(p);
        });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    latenciesMs,
    allocated,
    calls,
    errors,
    errorKinds,
    elapsedMs: performance.now() - t0,
    skipped,
    cpuUs: cpu.user + cpu.system,
  };
}

process.once('message', (plan: LoadPlan) => {
  void run(plan).then((result) => {
    process.send!(result, () => process.exit(0));
  });
});
