// Moving NARs through a session: AddToStoreNar / NarFromPath with Nix,
// import-paths / export-path (the export format) with guix-daemon.
import { copyNar } from '../nar/nar-copy.js';
import { ByteReader, type ByteSource } from '../wire/byte-reader.js';
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { NarImport } from './build-daemon.js';
import { Op } from './constants.js';
import { DaemonError, DaemonProtocolError } from './errors.js';
import { writeExport, type ExportItem } from '../export/export-writer.js';
import { signGuixExportHash } from '../signature/guix/guix-export-signature.js';
import { readExportTrailer } from './export-format.js';
import type { DaemonSession } from './session.js';
import { stderrEvents, type StderrEvent } from './stderr.js';

/** Adds one NAR to the store on `session`, in the session's dialect. */
export async function addNarOn(session: DaemonSession, info: NarImport, nar: ByteSource): Promise<void> {
  if (session.info.dialect === 'guix') return importPathsOn(session, info, nar);
  session.request(
    Op.AddToStoreNar,
    encodeBytes(info.path),
    encodeBytes(info.deriver ?? ''),
    encodeBytes(info.narHash),
    encodeStringList(info.references),
    encodeU64(info.registrationTime ?? 0),
    encodeU64(info.narSize),
    encodeU64(0), // ultimate: the daemon decides
    encodeStringList(info.sigs ?? []),
    encodeBytes(info.ca ?? ''),
    encodeU64(0), // repair
    encodeU64(1), // do not check signatures (honoured for trusted clients only)
  );
  if (session.minor < 23) {
    await session.finish('add-to-store-nar', answerReads(session, new ByteReader(nar)));
    return;
  }
  // ≥ 1.23: the NAR travels in frames (u64 length, raw bytes, no padding; 0 ends)
  // while the daemon may talk back; read its messages at the same time.
  // Set by the daemon's answer while the loop runs (a `let` would be narrowed to `false` for good).
  const daemon = { failed: false };
  const done = session.finish('add-to-store-nar').catch((error: unknown) => {
    daemon.failed = true;
    throw error;
  });
  done.catch(() => undefined);
  for await (const chunk of nar) {
    if (daemon.failed || session.conn.closed) break;
    if (chunk.length > 0) await session.conn.sendAndWait(encodeU64(chunk.length), chunk);
  }
  if (!session.conn.closed) session.conn.send(encodeU64(0));
  await done;
}

/**
 * import-paths (op 27) of a one-path export stream, answering the daemon's
 * reads: guix-daemon's way to add a NAR (nix-daemon still accepts it too).
 */
export async function importPathsOn(session: DaemonSession, info: NarImport, nar: ByteSource): Promise<void> {
  session.request(Op.ImportPaths);
  await session.finish(
    'import-paths',
    answerReads(session, new ByteReader(writeExport([exportItemOf(info, nar)]))),
  );
  const imported = await session.readStrings('imported path');
  if (!imported.includes(info.path)) {
    throw new DaemonError({
      daemonMessage: `import-paths did not import ${info.path} (got ${imported.join(', ') || 'nothing'})`,
      operation: 'import-paths',
    });
  }
}

/** The export item (../export/) for one NAR import. */
function exportItemOf(info: NarImport, nar: ByteSource): ExportItem {
  const sig = info.guixSignature;
  const key = info.guixSigningKey;
  return {
    path: info.path,
    references: info.references,
    deriver: info.deriver ?? undefined,
    signature: sig === undefined ? undefined : typeof sig === 'string' ? Buffer.from(sig, 'utf8') : sig,
    ...(key === undefined ? {} : { sign: (hash: Uint8Array) => signGuixExportHash(hash, key) }),
    nar,
  };
}

/** Answers STDERR_READ requests with bytes from `source` (an empty answer means end of data). */
function answerReads(session: DaemonSession, source: ByteReader): (event: StderrEvent) => Promise<void> {
  return async (event) => {
    if (event.kind !== 'read') return;
    const chunk = await source.readSome(event.length);
    await session.conn.sendAndWait(encodeBytes(chunk));
  };
}

/**
 * Streams `path` as a NAR on `session`: NarFromPath (Nix) or export-path
 * (Guix). The NAR is validated while it passes. Abandoning the iteration
 * midway marks the session broken.
 */
export async function* dumpPathOn(session: DaemonSession, path: string): AsyncGenerator<Uint8Array> {
  if (session.info.dialect === 'guix') {
    yield* exportPathOn(session, path);
    return;
  }
  let complete = false;
  try {
    session.request(Op.NarFromPath, encodeBytes(path));
    await session.finish('nar-from-path');
    yield* copyNar(session.conn.reader);
    complete = true;
  } finally {
    if (!complete) session.broken = true;
  }
}

/**
 * export-path (op 16, unsigned): guix-daemon's way to dump a path (nix-daemon
 * still answers it too). Yields the NAR out of the export stream and checks
 * the trailer names `path`.
 */
export async function* exportPathOn(session: DaemonSession, path: string): AsyncGenerator<Uint8Array> {
  let complete = false;
  try {
    session.request(Op.ExportPath, encodeBytes(path), encodeU64(0));
    const reader = new ByteReader(writesOf(session));
    yield* copyNar(reader);
    const trailer = await readExportTrailer(reader);
    if (trailer.path !== path) {
      throw new DaemonProtocolError('bad-export', 'export-path sent another path', {
        expected: path,
        found: trailer.path,
      });
    }
    if (!(await reader.atEnd())) {
      throw new DaemonProtocolError('bad-export', 'export-path sent data after the path', {
        offset: reader.offset,
      });
    }
    await session.conn.reader.readU64('acknowledgement');
    complete = true;
  } finally {
    if (!complete) session.broken = true;
  }
}

/** The data chunks (STDERR_WRITE) of an operation, up to STDERR_LAST. */
async function* writesOf(session: DaemonSession): AsyncGenerator<Uint8Array> {
  for await (const event of stderrEvents(session.conn.reader, session.info, 'export-path')) {
    if (event.kind === 'write') yield event.data;
    else if (event.kind === 'read')
      throw new DaemonProtocolError('unexpected-message', 'the daemon asked for data during export-path', {});
  }
}
