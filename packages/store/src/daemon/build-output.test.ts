// Telling builder output from daemon messages (guix-daemon's multiplexed
// frames and build traces), with hostile frames: bounded and never thrown.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogLine } from './build-daemon.js';
import { BuildOutput } from './build-output.js';
import { parseBuildTrace, timeLimitOf } from './build-trace.js';
import { ByteLineSplitter } from './line-splitter.js';

const DRV = '/gnu/store/9w5fj7y3l1h0l7kx9qkq2fdj3v1s1b4n-hello-2.12.drv';
const frame = (pid: number | string, data: string | Buffer, length = Buffer.byteLength(data)): Buffer =>
  Buffer.concat([Buffer.from(`@ build-log ${pid} ${length}\n`), Buffer.from(data)]);

function collect(): { lines: LogLine[]; output: BuildOutput } {
  const lines: LogLine[] = [];
  let clock = 100;
  return {
    lines,
    output: new BuildOutput(
      DRV,
      (line) => lines.push(line),
      () => clock++,
    ),
  };
}

describe('BuildOutput', () => {
  it('splits frames per builder, keeps daemon lines apart, consumes traces and records them', () => {
    const { lines, output } = collect();
    output.push(Buffer.from(`@ build-started ${DRV} - x86_64-linux /var/log/guix/drvs/9w/x.drv.gz 12\n`));
    output.push(frame(12, 'half of '));
    output.push(frame(13, 'another\nbuilder'));
    output.push(frame(12, 'a line\r\nnext'));
    output.push(Buffer.from('a daemon message\n'));
    output.push(Buffer.from(`building of \`${DRV}' timed out after 1 seconds of silence\n`));
    output.push(Buffer.from(`@ build-failed ${DRV} - timeout\n`));
    output.push(Buffer.from('@ substituter-started /gnu/store/x-y substitute\n'));
    output.flush();
    expect(lines).toEqual([
      { source: 'build', text: 'another' },
      { source: 'build', text: 'half of a line' },
      { source: 'daemon', text: 'a daemon message' },
      { source: 'daemon', text: `building of \`${DRV}' timed out after 1 seconds of silence` },
      // The build's partial line is flushed when its build ends; the other builder's at the end.
      { source: 'build', text: 'next' },
      { source: 'build', text: 'builder' },
    ]);
    expect(output).toMatchObject({
      startTime: 100,
      stopTime: 101,
      timeLimit: 'max-silent-time',
      substituted: true,
      otherFailed: false,
    });
  });

  it('prefers the limit named on its own derivation, and notes failures of others', () => {
    const { output } = collect();
    output.push(
      Buffer.from(
        "building of `/gnu/store/00000000000000000000000000000000-dep.drv' timed out after 3 seconds\n",
      ),
    );
    expect(output.timeLimit).toBe('timeout');
    output.push(
      Buffer.from('@ build-failed /gnu/store/00000000000000000000000000000000-dep.drv - timeout\n'),
    );
    output.push(Buffer.from(`building of \`${DRV}' timed out after 1 seconds of silence\n`));
    expect(output).toMatchObject({
      timeLimit: 'max-silent-time',
      otherFailed: true,
      startTime: undefined,
      stopTime: undefined,
    });
  });

  it('passes builder bytes through exactly, UTF-8 split across frames included', () => {
    const { lines, output } = collect();
    const text = Buffer.from('caf\u00e9 \u2713\n');
    output.push(frame(7, text.subarray(0, 4)));
    output.push(frame(7, text.subarray(4)));
    expect(lines).toEqual([{ source: 'build', text: 'caf\u00e9 \u2713' }]);
  });

  it('reads hostile frames as far as they go, never as a crash', () => {
    const { lines, output } = collect();
    output.push(frame(5, 'short\n', 1000)); // a length past the message: what is there
    output.push(frame(5, 'long\nrest of message\n', 5)); // bytes after the frame: the daemon's
    output.push(Buffer.from('@ build-log 5 3')); // no newline: daemon text
    output.push(Buffer.from('\n'));
    output.push(frame('12x', 'bogus pid\n')); // bogus PID: the whole message is daemon text
    output.push(frame('99999999999', 'pid too long\n'));
    output.push(Buffer.concat([Buffer.from('@ build-log 1 '), Buffer.alloc(100, 0x31), Buffer.from('\nx')])); // oversized header
    output.push(Buffer.from('@ build-log '));
    output.flush();
    expect(lines.map((l) => `${l.source}:${l.text}`)).toEqual([
      'build:short',
      'build:long',
      'daemon:rest of message',
      'daemon:@ build-log 5 3',
      'daemon:@ build-log 12x 10',
      'daemon:bogus pid',
      'daemon:@ build-log 99999999999 13',
      'daemon:pid too long',
      `daemon:@ build-log 1 ${'1'.repeat(100)}`,
      'daemon:x@ build-log ',
    ]);
  });

  it('never throws, and never makes up output, whatever the messages', () => {
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.nat(9), fc.string(), fc.nat(50)).map(([pid, s, length]) => frame(pid, s, length)),
    );
    fc.assert(
      fc.property(fc.array(message), (messages) => {
        const { lines, output } = collect();
        for (const m of messages) output.push(m);
        output.flush();
        const sent = messages.reduce((n, m) => n + m.length, 0);
        expect(lines.reduce((n, l) => n + Buffer.byteLength(l.text), 0)).toBeLessThanOrEqual(sent * 3);
      }),
      { numRuns: 300 },
    );
  });

  it('emits an overlong line in bounded pieces', () => {
    const pieces: string[] = [];
    const splitter = new ByteLineSplitter((line) => pieces.push(line), 10);
    splitter.push(Buffer.from('0123456789abcdefghij'));
    splitter.push(Buffer.from('klm\nend'));
    splitter.flush();
    expect(pieces).toEqual(['0123456789', 'abcdefghij', 'klm', 'end']);
  });
});

describe('build traces and time limits', () => {
  it('parses the traces guix-daemon prints and nothing else', () => {
    expect(parseBuildTrace(`@ build-started ${DRV} - x86_64-linux /var/log/x.gz 4242`)).toEqual({
      kind: 'build-started',
      drvPath: DRV,
      system: 'x86_64-linux',
      logFile: '/var/log/x.gz',
      pid: 4242,
    });
    expect(parseBuildTrace(`|   @ build-succeeded ${DRV} -`)).toEqual({
      kind: 'build-succeeded',
      drvPath: DRV,
    });
    expect(parseBuildTrace(`@ build-failed ${DRV} - 1 builder failed`)).toEqual({
      kind: 'build-failed',
      drvPath: DRV,
      reason: '1 builder failed',
    });
    expect(parseBuildTrace('@ substituter-succeeded /gnu/store/x-y')).toEqual({
      kind: 'substituter-succeeded',
      path: '/gnu/store/x-y',
    });
    expect(parseBuildTrace(`@ build-started ${DRV} - x86_64-linux /var/log/x.gz pid`)).toEqual({
      kind: 'other',
      name: 'build-started',
    });
    expect(parseBuildTrace('@ hook-failed x')).toEqual({ kind: 'other', name: 'hook-failed' });
    expect(parseBuildTrace('building path(s) x')).toBeUndefined();
    expect(parseBuildTrace('@@ build-started')).toBeUndefined();
  });

  it("tells the two limits from the daemons' words (Guix 1.4.0, 1.5.0, Nix 2.8)", () => {
    expect(timeLimitOf(`building of \`${DRV}' timed out after 1 seconds of silence`)).toBe('max-silent-time');
    expect(timeLimitOf(`building of \`${DRV}' timed out after 2 seconds`)).toBe('timeout');
    expect(timeLimitOf(`building of \`${DRV}' timed out after %2% seconds`)).toBe('timeout');
    expect(timeLimitOf(`building of '${DRV}' timed out after 1 seconds of silence`)).toBe('max-silent-time');
    expect(timeLimitOf(`build of \`${DRV}' failed`)).toBeUndefined();
    expect(timeLimitOf('timed out after many seconds')).toBeUndefined();
  });
});
