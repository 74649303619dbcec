import { spawn } from 'node:child_process';
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
  const dir = mkdtempSync(join(tmpdir(), 'jit-access-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const onExit = () => cleanup();
  process.once('exit', onExit);
  try {
    const file = join(dir, 'my.cnf');
    writeFileSync(file, `${formatCredentials(creds, 'mycnf')}\n`, { mode: 0o600, flag: 'wx' });
    return await new Promise<number>((resolve, reject) => {
      // --defaults-extra-file must come first; the person's own arguments follow.
      const child = spawn(client, [`--defaults-extra-file=${file}`, ...(options.args ?? [])], {
        stdio: 'inherit',
      });
      // Ctrl-C reaches the client (same terminal); this process waits for it to finish, then cleans up.
      const ignore = () => {};
      process.on('SIGINT', ignore);
      const forward = () => child.kill('SIGTERM');
      process.on('SIGTERM', forward);
      const done = () => {
        process.off('SIGINT', ignore);
        process.off('SIGTERM', forward);
      };
      child.once('error', (error) => {
        done();
        reject(new CredsError(`Could not start ${client}: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        done();
        resolve(code ?? (signal ? 128 : 1));
      });
    });
  } finally {
    cleanup();
    process.off('exit', onExit);
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
