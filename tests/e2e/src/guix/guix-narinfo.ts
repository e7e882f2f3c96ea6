// A Guix-flavour narinfo from the coordinator's cache, read the way Guix reads
// it (guix/narinfo.scm): the signed text is everything before `Signature:`,
// which must hold StorePath, NarHash and References; the signature field is
// `1;<host>;<base64 of the signature s-expression>`. Also fetches its NARs.
import { createHash } from 'node:crypto';
import { COMPRESSIONS, decompressWith, type UploadCompression } from '../support/compress.js';
import { fetchCacheFile } from '../support/cache-files.js';

/** A Guix narinfo as served, split as Guix splits it. */
export interface ServedGuixNarinfo {
  readonly text: string;
  /** The fields in order (URL, Compression and FileSize repeat, one group per compression). */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** The text the signature covers, and its sha256 in base16. */
  readonly signedText: string;
  readonly signedSha256: string;
  /** Field names within the signed text. */
  readonly signedFields: readonly string[];
  /** The signature's host and its s-expression (decoded from base64). */
  readonly signatureHost: string;
  readonly signature: Uint8Array;
}

/** GETs `/<hash>.narinfo?flavour=guix` of `storePath` and splits it; throws unless 200 with a version-1 signature. */
export async function fetchGuixNarinfo(cacheUrl: string, storePath: string): Promise<ServedGuixNarinfo> {
  const hash = storePath.slice(storePath.lastIndexOf('/') + 1).slice(0, 32);
  const res = await fetch(`${cacheUrl}/${hash}.narinfo?flavour=guix`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${hash}.narinfo?flavour=guix: ${res.status} ${text}`);
  const fields = text
    .split('\n')
    .filter((l) => l !== '')
    .map((line): [string, string] => {
      const at = line.indexOf(': ');
      return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 2)];
    });
  const at = text.indexOf('Signature:');
  if (at < 0) throw new Error(`the narinfo of ${storePath} has no Signature: ${text}`);
  const signedText = text.slice(0, at);
  const value = fields.find(([k]) => k === 'Signature')![1];
  const parts = value.split(';');
  if (parts.length !== 3 || parts[0] !== '1')
    throw new Error(`the narinfo of ${storePath} has a signature Guix cannot read: ${value}`);
  return {
    text,
    fields,
    signedText,
    signedSha256: createHash('sha256').update(signedText, 'utf8').digest('hex'),
    signedFields: signedText
      .split('\n')
      .filter((l) => l.includes(': '))
      .map((l) => l.slice(0, l.indexOf(': '))),
    signatureHost: parts[1]!,
    signature: new Uint8Array(Buffer.from(parts[2]!, 'base64')),
  };
}

/** The value of the first field `name`. */
export function field(info: ServedGuixNarinfo, name: string): string | undefined {
  return info.fields.find(([k]) => k === name)?.[1];
}

/** Every NAR the narinfo offers (URL and Compression groups), downloaded and decompressed. */
export async function fetchOfferedNars(
  cacheUrl: string,
  info: ServedGuixNarinfo,
): Promise<Array<{ compression: string; nar: Uint8Array }>> {
  const urls = info.fields.filter(([k]) => k === 'URL').map(([, v]) => v);
  const compressions = info.fields.filter(([k]) => k === 'Compression').map(([, v]) => v);
  if (urls.length === 0 || urls.length !== compressions.length)
    throw new Error(`narinfo URL and Compression groups do not pair up: ${info.text}`);
  return Promise.all(
    urls.map(async (url, i) => {
      const compression = compressions[i]!;
      if (!isCompression(compression))
        throw new Error(`narinfo offers ${url} in ${compression}, which this test cannot decompress`);
      return { compression, nar: decompressWith(compression, await fetchCacheFile(cacheUrl, url)) };
    }),
  );
}

function isCompression(name: string): name is UploadCompression {
  return (COMPRESSIONS as readonly string[]).includes(name);
}
