// One process's or thread's line of /proc (`/proc/<pid>/stat`,
// `/proc/self/task/<tid>/stat`), as the benchmarks read it.

/** Its name and CPU times (user + system, µs), its own and that of its ended, waited-for children. */
export interface ProcStat {
  readonly name: string;
  readonly cpuUs: number;
  readonly childrenCpuUs: number;
}

/** Parses a stat line; the name may hold spaces and parentheses, so fields are counted from its last `)`. */
export function parseProcStat(text: string): ProcStat {
  const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  // After the name: state is field 3 of the line; utime, stime, cutime, cstime are 14–17, in clock ticks (100 per second).
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const us = (i: number) => Number(f[i]) * 10_000;
  return { name, cpuUs: us(11) + us(12), childrenCpuUs: us(13) + us(14) };
}
