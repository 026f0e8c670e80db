import { describe, expect, it } from 'vitest';
import { PromaxError } from './errors.js';
import { fsError, withFsErrors } from './fs-errors.js';

const sysError = (code: string) => Object.assign(new Error(`${code}: x`), { code });

describe('fsError', () => {
  it.each([
    ['ENOENT', 'FILE_NOT_FOUND', /no such file or folder/],
    ['EACCES', 'IO_ERROR', /permission denied/],
    ['EROFS', 'IO_ERROR', /read-only/],
    ['ENOSPC', 'IO_ERROR', /the disk is full/],
    ['EISDIR', 'IO_ERROR', /a folder is where a file was expected/],
    ['ENOTDIR', 'IO_ERROR', /a part of the path is a file/],
  ])('%s becomes %s naming the path, with a fix', (errno, code, what) => {
    const e = fsError(sysError(errno), '/data/run/x.npy', 'write') as PromaxError;
    expect(PromaxError.isInstance(e)).toBe(true);
    expect(e.code).toBe(code);
    expect(e.file).toBe('/data/run/x.npy');
    expect(e.message).toMatch(what);
    expect(e.fix).toBeTruthy();
    expect(e.details).toMatchObject({ errno, action: 'write' });
  });

  it('passes PromaxErrors and non-system errors through', () => {
    const p = new PromaxError({ code: 'INVALID_ARGUMENT', message: 'm' });
    expect(fsError(p, '/x', 'read')).toBe(p);
    const plain = new RangeError('r');
    expect(fsError(plain, '/x', 'read')).toBe(plain);
  });

  it('withFsErrors wraps sync and async failures', async () => {
    expect(() =>
      withFsErrors('/a', 'read', () => {
        throw sysError('EACCES');
      }),
    ).toThrow(/cannot read: permission denied \(file \/a\)/);
    await expect(withFsErrors('/b', 'write', () => Promise.reject(sysError('ENOSPC')))).rejects.toMatchObject(
      {
        code: 'IO_ERROR',
        isRetryable: true,
      },
    );
  });
});

describe('PromaxError fix hints per interface', () => {
  it('renders the CLI or library wording from one error, the library one by default', () => {
    const e = new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'the run directory already holds a run',
      fixFor: { cli: 'pass --overwrite', library: 'pass overwrite: true' },
    });
    expect(e.message).toBe('the run directory already holds a run. Fix: pass overwrite: true');
    expect(e.describe('cli')).toBe('the run directory already holds a run. Fix: pass --overwrite');
    expect(e.describe('library')).toBe(e.message);
    const plain = new PromaxError({ code: 'INVALID_ARGUMENT', message: 'm', fix: 'f' });
    expect(plain.describe('cli')).toBe('m. Fix: f');
  });
});
