// The Guix dialect against a byte-level scripted guix-daemon playing 0x163
// (Guix 1.4.0) and 0x164 (1.5.0): the handshake (no version string, no trust
// flag), options, text derivations, path info, builds with multiplexed logs,
// traces and failures, export-path and import-paths; unknown versions refused.
// The same operations run against the real daemons in daemon-matrix.test.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPORT_MAGIC } from './export-format.js';
import { Stderr } from './constants.js';
import { DaemonError, DaemonProtocolError } from './errors.js';
import { createBuildDaemon } from './native-daemon.js';
import { ScriptedPeer, wire, type PeerStep } from './scripted-peer.js';
import { nix, removeDir, tempDir } from './test-helpers.js';

const { u64, str, strs, cat } = wire;
const STORE = '/gnu/store';
const drvPath = `${STORE}/9w5fj7y3l1h0l7kx9qkq2fdj3v1s1b4n-hello-2.12.drv`;
const outPath = `${STORE}/0i4rnp6b0h5m5v0yq0pl3k5d8qzx9ib1-hello-2.12`;
const srcPath = `${STORE}/3a6xs7lzl9ng3hbfr6yvr5khv8l3kkw2-builder.scm`;
const missing = `${STORE}/00000000000000000000000000000000-missing`;
// Derivation text is bytes: a latin1 byte must pass through untouched.
const drvText = Buffer.concat([
  Buffer.from(
    'Derive([("out","' +
      outPath +
      '","","")],[],["' +
      srcPath +
      '"],"x86_64-linux","/bin/sh",[],[("note","caf',
  ),
  Buffer.from([0xe9]),
  Buffer.from('")])'),
]);

/** The handshake with a daemon announcing `version`: the client offers 0x164, both use the smaller. */
const handshakeWith = (version: number): PeerStep[] => [
  { expect: u64(0x6e697863), what: 'client magic' },
  { send: cat(u64(0x6478696f), u64(version)) },
  {
    expect: cat(u64(0x164), u64(0), u64(0)),
    what: 'client version 0x164, no CPU affinity, no reserved space',
  },
  { send: u64(Stderr.Last) },
];
const options = {
  keepFailed: true,
  maxSilentTime: 60,
  buildCores: 2,
  timeout: 3600,
  overrides: { 'build-repeat': '0' },
};
const setOptionsBytes = cat(
  u64(19),
  u64(1),
  u64(0),
  u64(0),
  u64(0), // keep-failed, keep-going, fallback, verbosity
  u64(0),
  u64(0),
  u64(2),
  u64(1),
  u64(0), // use-build-hook, build verbosity, log type flat, print-build-trace, substitutes
  u64(5),
  str('multiplexed-build-output'),
  str('true'),
  str('build-max-silent-time'),
  str('60'),
  str('build-cores'),
  str('2'),
  str('build-timeout'),
  str('3600'),
  str('build-repeat'),
  str('0'),
);
const next = (text: string | Uint8Array): Uint8Array => cat(u64(Stderr.Next), str(text));
/** A multiplexed builder-output frame, as guix-daemon's handleChildOutput writes it. */
const frame = (pid: number, data: string | Uint8Array): Uint8Array =>
  next(cat(Buffer.from(`@ build-log ${pid} ${Buffer.byteLength(data)}\n`), Buffer.from(data)));
const LAST = u64(Stderr.Last);

describe.each([0x163, 0x164])('guix-daemon dialect (scripted peer announcing 0x%s)', (version) => {
  const handshake = handshakeWith(version);
  const dir = tempDir('gbc-guix-peer-');
  afterAll(() => removeDir(dir));

  it('speaks every operation byte for byte', async () => {
    const narDir = join(dir, 'tree');
    mkdirSync(join(narDir, 'bin'), { recursive: true });
    writeFileSync(join(narDir, 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    writeFileSync(join(narDir, 'README'), 'hello\n'.repeat(700));
    const nar = nix('nix-store', ['--dump', narDir]);
    const hash = 'a'.repeat(64);
    const trailer = cat(u64(EXPORT_MAGIC), str(outPath), strs([srcPath]), str(drvPath), u64(0));
    const exported = cat(nar, trailer);
    const signature = '(signature (data (hash sha256 #00#)) (sig-val) (public-key))';
    const importBytes = cat(
      u64(1),
      nar,
      u64(EXPORT_MAGIC),
      str(outPath),
      strs([srcPath]),
      str(drvPath),
      u64(1),
      str(signature),
      u64(0),
    );

    const main: PeerStep[] = [
      ...handshake,
      { expect: setOptionsBytes, what: 'set-options' },
      { send: LAST },
      {
        expect: cat(u64(8), str('hello-2.12.drv'), str(drvText), strs([srcPath])),
        what: 'add-text-to-store',
      },
      { send: cat(next('adding text\n'), LAST, str(drvPath)) },
      { expect: cat(u64(1), str(drvPath)), what: 'is-valid-path' },
      { send: cat(LAST, u64(1)) },
      { expect: cat(u64(31), strs([drvPath, missing])), what: 'query-valid-paths without a substitute flag' },
      { send: cat(LAST, strs([drvPath])) },
      { expect: cat(u64(1), str(outPath)), what: 'is-valid-path before query-path-info' },
      { send: cat(LAST, u64(1)) },
      { expect: cat(u64(26), str(outPath)), what: 'query-path-info' },
      { send: cat(LAST, str(drvPath), str(hash), strs([srcPath]), u64(1_700_000_000), u64(nar.length)) },
      { expect: cat(u64(1), str(missing)), what: 'is-valid-path of a missing path' },
      { send: cat(LAST, u64(0)) },
      { expect: cat(u64(9), strs([drvPath]), u64(0)), what: 'build-things with a bare derivation path' },
      {
        send: cat(
          next(`building path(s) \`${outPath}'\n`),
          next(`@ build-started ${drvPath} - x86_64-linux /var/log/guix/drvs/9w/x.drv.gz 4242\n`),
          frame(4242, 'line one\nline tw'),
          frame(4343, 'other builder\n'),
          frame(4242, 'o\n'),
          // Builder bytes that look like daemon text stay the builder's.
          frame(4242, '@ build-succeeded not-a-trace -\n'),
          next(`@ build-succeeded ${drvPath} -\n`),
          LAST,
          u64(1),
        ),
      },
      { expect: cat(u64(9), strs([drvPath]), u64(0)), what: 'build-things of an already-valid derivation' },
      { send: cat(LAST, u64(1)) },
      { expect: cat(u64(9), strs([`${drvPath}!out`]), u64(0)), what: 'build-things of one output' },
      {
        send: cat(
          next(`@ build-started ${drvPath} - x86_64-linux /var/log/x.drv.gz 77\n`),
          frame(77, 'oops\n'),
          next(`building of \`${drvPath}' timed out after %2% seconds\n`),
          next(`@ build-failed ${drvPath} - timeout\n`),
          u64(Stderr.Error),
          str(`build of \`${drvPath}' failed`),
          u64(101),
        ),
      },
      { expect: cat(u64(16), str(outPath), u64(0)), what: 'export-path, unsigned' },
      {
        send: cat(
          u64(Stderr.Write),
          str(exported.subarray(0, 13)),
          u64(Stderr.Write),
          str(exported.subarray(13, 3000)),
          u64(Stderr.Write),
          str(exported.subarray(3000)),
          LAST,
          u64(1),
        ),
      },
      { expect: u64(27), what: 'import-paths' },
      { tunnelRead: importBytes, chunk: 1000, what: 'the export stream' },
      { send: cat(LAST, strs([outPath])) },
      {
        expect: cat(u64(8), str('bad.drv'), str('nonsense'), strs([])),
        what: 'add-text-to-store of nonsense',
      },
      { send: cat(u64(Stderr.Error), str("invalid derivation `nonsense'"), u64(1)) },
    ];
    // After an error the pool opens a fresh connection and sends the options again.
    const second: PeerStep[] = [
      ...handshake,
      { expect: setOptionsBytes, what: 'set-options replayed on a new connection' },
      { send: LAST },
      { expect: cat(u64(1), str(outPath)), what: 'is-valid-path' },
      { send: cat(LAST, u64(1)) },
      {
        expect: cat(u64(1), str(outPath)),
        what: 'is-valid-path after a refused BuildDerivation, same connection',
      },
      { send: cat(LAST, u64(1)) },
    ];
    const roots: PeerStep[] = [
      ...handshake,
      { expect: cat(u64(11), str(outPath)), what: 'add-temp-root' },
      { send: cat(LAST, u64(1)) },
    ];
    const peer = await ScriptedPeer.start(dir, [main, second, roots]);
    const daemon = createBuildDaemon({ socket: `unix://${peer.socket}`, storeDir: STORE, maxConnections: 1 });
    try {
      await daemon.setOptions(options);
      expect(await daemon.info()).toEqual({
        dialect: 'guix',
        daemonVersion: version,
        protocolVersion: version,
        versionString: null,
        trusted: null,
      });
      expect(await daemon.addTextToStore('hello-2.12.drv', drvText, [srcPath])).toBe(drvPath);
      expect(await daemon.isValidPath(drvPath)).toBe(true);
      expect(await daemon.queryValidPaths([drvPath, missing])).toEqual([drvPath]);
      expect(await daemon.queryPathInfo(outPath)).toEqual({
        path: outPath,
        deriver: drvPath,
        narHash: hash,
        references: [srcPath],
        registrationTime: 1_700_000_000,
        narSize: nar.length,
        ultimate: false,
        sigs: [],
        ca: null,
      });
      expect(await daemon.queryPathInfo(missing)).toBeNull();
      const lines: string[] = [];
      const ok = await daemon.build(drvPath, { onLog: (l) => lines.push(`${l.source}:${l.text}`) });
      expect(ok).toMatchObject({ success: true, status: 'built' });
      expect(ok.stopTime).toBeGreaterThanOrEqual(ok.startTime!);
      expect(lines).toEqual([
        `daemon:building path(s) \`${outPath}'`,
        'build:line one',
        'build:other builder',
        'build:line two',
        'build:@ build-succeeded not-a-trace -',
      ]);
      expect(await daemon.build(drvPath)).toEqual({
        success: true,
        status: 'already-valid',
        statusCode: 0,
        errorMessage: '',
        startTime: null,
        stopTime: null,
      });
      const failed = await daemon.build(drvPath, { outputs: ['out'], onLog: (l) => lines.push(l.text) });
      expect(failed).toMatchObject({
        success: false,
        status: 'timed-out',
        statusCode: 101,
        timeLimit: 'timeout',
        errorMessage: `build of \`${drvPath}' failed`,
      });
      expect(failed.stopTime).toBeGreaterThanOrEqual(failed.startTime!);
      expect(lines.slice(-2)).toEqual(['oops', `building of \`${drvPath}' timed out after %2% seconds`]);
      const parts: Uint8Array[] = [];
      for await (const part of daemon.dumpPath(outPath)) parts.push(part);
      expect(Buffer.concat(parts).equals(nar)).toBe(true);
      await daemon.addNar(
        {
          path: outPath,
          deriver: drvPath,
          narHash: hash,
          references: [srcPath],
          narSize: nar.length,
          guixSignature: signature,
        },
        [nar.subarray(0, 5), nar.subarray(5)],
      );
      const refusal: unknown = await daemon
        .addTextToStore('bad.drv', 'nonsense', [])
        .catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(DaemonError);
      expect(refusal).toMatchObject({
        daemonMessage: "invalid derivation `nonsense'",
        status: 1,
        operation: 'add-text-to-store',
      });
      expect(await daemon.isValidPath(outPath)).toBe(true);
      await daemon.addTempRoot(outPath);
      const basic = {
        outputs: new Map(),
        inputSrcs: [],
        system: 'x86_64-linux',
        builder: '/bin/sh',
        args: [],
        env: new Map(),
      };
      await expect(daemon.buildDerivation(drvPath, basic)).rejects.toMatchObject({
        code: 'unsupported-operation',
      });
      expect(await daemon.isValidPath(outPath)).toBe(true);
    } finally {
      await daemon.close();
    }
    await peer.finished();
    await peer.close();
    expect(peer.problems).toEqual([]);
    expect(peer.unplayed).toBe(0);
  });
});

describe('handshake refusals (scripted peer)', () => {
  const dir = tempDir('gbc-guix-peer-bad-');
  afterAll(() => removeDir(dir));
  const greet = (version: number): PeerStep[] => [
    { expect: u64(0x6e697863), what: 'magic' },
    { send: cat(u64(0x6478696f), u64(version)) },
  ];

  it('refuses the wrong magic, and every version neither Nix 1.21+ nor guix-daemon, naming it', async () => {
    // Nix 1.20, another major, major 0, a version past 16 bits whose low bits read 0x164.
    const unknown = [0x114, 0x200, 0x063, 0x1_0000_0164];
    const peer = await ScriptedPeer.start(dir, [
      [{ expect: u64(0x6e697863), what: 'magic' }, { send: cat(u64(0x12345678), u64(0x163)) }],
      ...unknown.map(greet),
      [
        ...handshakeWith(0x163).slice(0, 3),
        { send: cat(u64(Stderr.Error), str('cannot open the store'), u64(1)) },
      ],
    ]);
    const daemon = createBuildDaemon({ socket: peer.socket, storeDir: STORE });
    try {
      await expect(daemon.isValidPath(outPath)).rejects.toMatchObject({ code: 'bad-magic' });
      for (const version of unknown) {
        const error: unknown = await daemon.isValidPath(outPath).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DaemonProtocolError);
        expect(error).toMatchObject({
          code: 'unsupported-version',
          message: expect.stringContaining(`0x${version.toString(16)}`),
        });
      }
      await expect(daemon.isValidPath(outPath)).rejects.toMatchObject({
        code: 'daemon-error',
        daemonMessage: 'cannot open the store',
      });
    } finally {
      await daemon.close();
    }
    await peer.close();
    expect(peer.problems).toEqual([]);
  });
});
