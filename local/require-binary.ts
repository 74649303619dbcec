import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Raised when a local server cannot start because a program is not installed. */
export class MissingBinaryError extends Error {
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
  ) {
    super(
      `'${binary}' was not found on PATH. Install it with: apt-get install -y ${debianPackage}` +
        ' (or run `bash .ci/run`, which installs every package the tests need).',
    );
    this.name = 'MissingBinaryError';
  }
}

const SEARCH_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** Absolute path of `binary`, looked up on PATH and the sbin directories a non-login shell may miss. */
export function findBinary(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Like {@link findBinary}, but fails with the Debian package that provides it. */
export function requireBinary(binary: string, debianPackage: string): string {
  const path = findBinary(binary);
  if (!path) throw new MissingBinaryError(binary, debianPackage);
  return path;
}
