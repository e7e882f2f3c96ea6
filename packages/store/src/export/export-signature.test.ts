// The lazily signed export: the signer sees the hash of exactly the bytes
// written (NAR and trailer up to the deriver), only after the whole NAR has
// streamed; the signature lands where readers expect it.
import { describe, expect, it } from 'vitest';
import { sha256 } from '../hash/index.js';
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/index.js';
import { EXPORT_MAGIC } from './export-format.js';
import { exportSignedHash, exportSignedTrailer } from './export-signature.js';
import { writeExport } from './export-writer.js';

const info = {
  path: '/gnu/store/00000000000000000000000000000000-x',
  references: ['/gnu/store/11111111111111111111111111111111-y'],
  deriver: undefined,
};

describe('signed exports', () => {
  it('signs over the NAR and trailer as streamed, after the last NAR chunk', async () => {
    const chunks = [Buffer.from('first part of a nar '), Buffer.from('and the rest')];
    const events: string[] = [];
    async function* nar(): AsyncGenerator<Uint8Array> {
      for (const chunk of chunks) {
        events.push('chunk');
        yield chunk;
      }
    }
    const out: Uint8Array[] = [];
    for await (const piece of writeExport([
      {
        ...info,
        nar: nar(),
        sign: (hash) => (events.push(`sign ${Buffer.from(hash).toString('hex')}`), 'SIG'),
      },
    ])) {
      out.push(piece);
    }
    const expected = sha256(
      Buffer.concat([
        ...chunks,
        encodeU64(EXPORT_MAGIC),
        encodeBytes(info.path),
        encodeStringList(info.references),
        encodeBytes(''),
      ]),
    );
    expect(exportSignedHash(chunks, info)).toEqual(expected);
    expect(events).toEqual(['chunk', 'chunk', `sign ${Buffer.from(expected).toString('hex')}`]);
    expect(Buffer.concat(out)).toEqual(
      Buffer.concat([
        encodeU64(1),
        ...chunks,
        exportSignedTrailer(info),
        encodeU64(1),
        encodeBytes('SIG'),
        encodeU64(0),
      ]),
    );
  });

  it('lets a signer that throws end the stream with its error', async () => {
    const write = async (): Promise<void> => {
      for await (const piece of writeExport([
        {
          ...info,
          nar: [Buffer.from('nar')],
          sign: () => {
            throw new Error('no key');
          },
        },
      ]))
        void piece;
    };
    await expect(write()).rejects.toThrow('no key');
  });
});
