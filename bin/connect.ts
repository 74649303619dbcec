import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CredsError, formatCredentials, unwrapCredentials, type VaultTarget } from './creds.js';

/*
 * `jit-access connect <token>`: unwraps and starts the mariadb (or mysql) client logged in as the
 * temporary user. The password goes into a 0600 defaults file in a private 0700 directory, never
 * on a command line (where `ps` shows it), in the environment or in shell history; the directory
 * is removed when the client exits, when the CLI is interrupted, or when it fails.
 */

const CLIENTS = ['mariadb', 'mysql'];

/** The client to start: the one asked for, else the first of mariadb, mysql on PATH. */
export function findClient(requested: string | undefined, path = process.env.PATH ?? ''): string {
  if (requested) {
    if (!isExecutable(requested)) throw new CredsError(`--client ${requested} is not an executable file.`);
    return requested;
  }
  for (const name of CLIENTS) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  throw new CredsError(
    'No MySQL client found (looked for mariadb and mysql on PATH). Install one — Debian/Ubuntu: apt install mariadb-client; macOS: brew install mysql-client — or name it with --client.',
  );
}

/** Runs the client against the unwrapped credentials; resolves with its exit code. */
export async function connect(
  token: string,
  target: VaultTarget,
  options: { client?: string; args?: readonly string[] } = {},
): Promise<number> {
  // Found before the token is spent: a missing client must not cost the person their token.
  const client = findClient(options.client);
  const creds = await unwrapCredentials(token, target);
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  const cleanup = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  // Installed before the directory exists, so no signal can leave it behind: while the client
  // runs, Ctrl-C is the client's (same terminal) and SIGTERM is passed on to it; before that,
  // either one cleans up and stops.
  const stopNow = (code: number) => {
    cleanup();
    process.exit(code);
  };
  const onSigint = () => {
    if (!child) stopNow(130);
  };
  const onSigterm = () => {
    if (child) child.kill('SIGTERM');
    else stopNow(143);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.once('exit', cleanup);
  try {
    dir = mkdtempSync(join(tmpdir(), 'jit-access-'));
    const file = join(dir, 'my.cnf');
    writeFileSync(file, `${formatCredentials(creds, 'mycnf')}\n`, { mode: 0o600, flag: 'wx' });
    return await new Promise<number>((resolve, reject) => {
      // --defaults-extra-file must come first; the person's own arguments follow.
      child = spawn(client, [`--defaults-extra-file=${file}`, ...(options.args ?? [])], { stdio: 'inherit' });
      child.once('error', (error) => reject(new CredsError(`Could not start ${client}: ${error.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    cleanup();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('exit', cleanup);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
