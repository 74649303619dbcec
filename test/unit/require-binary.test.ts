import { describe, expect, it } from 'vitest';
import { findBinary, MissingBinaryError, requireBinary } from '../../local/require-binary.js';

describe('requireBinary', () => {
  it('finds an installed program, also in sbin directories a non-login PATH misses', () => {
    expect(requireBinary('sh', 'dash')).toMatch(/\/sh$/);
  });

  it('fails with the exact Debian package to install, not a stack trace', () => {
    expect(findBinary('jit-access-no-such-program')).toBeUndefined();
    expect(() => requireBinary('jit-access-no-such-program', 'samba-ad-dc')).toThrow(MissingBinaryError);
    expect(() => requireBinary('jit-access-no-such-program', 'samba-ad-dc')).toThrow(
      "'jit-access-no-such-program' was not found on PATH. Install it with: apt-get install -y samba-ad-dc",
    );
  });
});
