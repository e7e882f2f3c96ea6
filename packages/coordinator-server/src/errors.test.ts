// The storage errors: messages carry what was expected and found, and
// isUploadRefusal separates client refusals from server faults.
import { describe, expect, it } from 'vitest';
import { CompressionError, StorageError, UploadRefusedError, isUploadRefusal } from './errors.js';

describe('storage errors', () => {
  it('formats expected/found into the message and keeps code, received and cause', () => {
    const cause = new Error('low level');
    const e = new UploadRefusedError('offset-mismatch', 'cannot resume', {
      expected: 'at most 10',
      found: '20',
      received: 10,
      cause,
    });
    expect(e.message).toBe('cannot resume; expected at most 10; found 20');
    expect(e).toMatchObject({ code: 'offset-mismatch', received: 10, name: 'UploadRefusedError', cause });
    expect(e).toBeInstanceOf(StorageError);
  });

  it('tells client refusals from server faults', () => {
    expect(isUploadRefusal(new UploadRefusedError('hash-mismatch', 'x'))).toBe(true);
    expect(isUploadRefusal(new CompressionError('corrupt-compression', 'x'))).toBe(true);
    expect(isUploadRefusal(new StorageError('invalid-key', 'x'))).toBe(true);
    expect(isUploadRefusal(new CompressionError('program-missing', 'x'))).toBe(false);
    expect(isUploadRefusal(new StorageError('interrupted', 'x'))).toBe(false);
    expect(isUploadRefusal(new Error('x'))).toBe(false);
  });
});
