// The program filter: a missing program is a clear typed error, a failing
// program never looks like a short success, and destroying the stream kills it.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CompressionError } from '../errors.js';
import { collect, waitFor } from '../test-support/bytes.js';
import { createProgramFilter } from './child-process-filter.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('createProgramFilter', () => {
  it('pipes bytes through a program', async () => {
    const filter = createProgramFilter({
      program: 'cat',
      args: [],
      failureCode: 'program-failed',
      what: 'cat',
    });
    const data = Buffer.alloc(3 << 20, 7);
    const out = await collect(
      Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]).pipe(filter),
    );
    expect(out.equals(data)).toBe(true);
  });

  it('reports a missing program as program-missing', async () => {
    const filter = createProgramFilter({
      program: 'gbc-no-such-zstd',
      args: [],
      failureCode: 'program-failed',
      what: 'test',
    });
    const error = await collect(filter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompressionError);
    expect((error as CompressionError).code).toBe('program-missing');
    expect((error as CompressionError).message).toContain('gbc-no-such-zstd');
  });

  it('turns a non-zero exit into an error even when some output came first', async () => {
    const filter = createProgramFilter({
      program: 'sh',
      args: ['-c', 'echo partial; echo broken >&2; exit 3'],
      failureCode: 'corrupt-compression',
      what: 'test',
    });
    const error = await pipeline(
      Readable.from([Buffer.from('x')]),
      filter,
      async (s: AsyncIterable<Buffer>) => {
        for await (const c of s) void c;
      },
    ).catch((e: unknown) => e);
    expect((error as CompressionError).code).toBe('corrupt-compression');
    expect((error as CompressionError).message).toContain('broken');
  });

  it('a program that exits 0 without reading all its input is a failure, not a short success', async () => {
    const filter = createProgramFilter({
      program: 'sh',
      args: ['-c', 'head -c 10; exit 0'],
      failureCode: 'corrupt-compression',
      what: 'test',
    });
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(1 << 16, 0x41));
    const error = await pipeline(Readable.from(chunks), filter, async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) void c;
    }).catch((e: unknown) => e);
    expect((error as CompressionError).code).toBe('corrupt-compression');
    expect((error as CompressionError).message).toContain('before reading all its input');
  });

  it('kills the program when the stream is destroyed', async () => {
    const filter = createProgramFilter({
      program: 'cat',
      args: [],
      failureCode: 'program-failed',
      what: 'cat',
    });
    filter.write(Buffer.from('hello'));
    const pid = filter.pid;
    expect(pid).toBeTypeOf('number');
    await new Promise((resolve) => filter.once('data', resolve));
    expect(isAlive(pid!)).toBe(true);
    filter.destroy();
    await waitFor(() => !isAlive(pid!), 'the program to be killed');
  });
});
