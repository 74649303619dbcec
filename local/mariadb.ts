import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { chown, mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port.js';
import { requireBinary } from './require-binary.js';

/** How to reach the private server as its admin (root). Plain data: it crosses vitest's provide/inject. */
export interface MariaDbConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  socketPath: string;
}

export interface MariaDbHandle {
  connection: MariaDbConnection;
  /** Stops the server and deletes its data directory. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartMariaDbOptions {
  /** Give up if the server does not accept the admin login within this time. Default 60 s (2-core CI). */
  startupTimeoutMs?: number;
  /** Parent of the temporary directory. Default os.tmpdir(). As root it must be traversable by `mysql`. */
  parentDir?: string;
}

const HOST = '127.0.0.1';
const ADMIN_USER = 'root';
// sun_path is 108 bytes on Linux; mariadbd fails obscurely beyond it.
const MAX_SOCKET_PATH = 107;
const STOP_GRACE_MS = 10_000;
const PORT_ATTEMPTS = 3;

/**
 * Boots a throwaway MariaDB in a fresh temp directory on a free loopback port.
 * Nothing outside that directory is touched: no system service, no /etc/mysql (--no-defaults).
 */
export async function startMariaDb(options: StartMariaDbOptions = {}): Promise<MariaDbHandle> {
  const startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
  const installDb = requireBinary('mariadb-install-db', 'mariadb-server');
  const mariadbd = requireBinary('mariadbd', 'mariadb-server');
  // mariadbd refuses to run as root without --user; as anyone else --user is ignored with a warning.
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? mysqlAccount() : undefined;

  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'jit-mariadb-'));
  const removeDirSync = () => rmSync(dir, { recursive: true, force: true });
  let server: RunningServer | undefined;
  try {
    const socketPath = join(dir, 'mysqld.sock');
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new Error(
        `MariaDB socket path is too long for a unix socket (${socketPath}); pass a shorter parentDir`,
      );
    }
    const dataDir = join(dir, 'data');
    const tmpDir = join(dir, 'tmp');
    const errLog = join(dir, 'err.log');
    const initFile = join(dir, 'init.sql');
    const password = randomBytes(18).toString('base64url');
    await mkdir(tmpDir);
    // Applied by the server before it accepts connections, so root is never reachable without a password.
    await writeFile(initFile, rootPasswordSql(password), { mode: 0o600 });
    if (owner) {
      for (const path of [dir, tmpDir, initFile]) await chown(path, owner.uid, owner.gid);
    }

    await run(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--innodb-log-file-size=8M',
        ...(asRoot ? ['--user=mysql'] : []),
      ],
      asRoot ? `; as root, every directory above ${dir} must be searchable by the mysql user` : '',
    );

    const baseArgs = [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socketPath}`,
      `--pid-file=${join(dir, 'mariadbd.pid')}`,
      `--tmpdir=${tmpDir}`,
      `--log-error=${errLog}`,
      `--init-file=${initFile}`,
      '--bind-address=127.0.0.1',
      // Hosts then match by IP only: a TCP login from 127.0.0.1 is 'u'@'%' or 'u'@'127.0.0.1', never
      // 'u'@'localhost', as it would be for a remote RDS client.
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=8M',
      // Data is thrown away after the run; durability fsyncs only slow the tests down.
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      ...(asRoot ? ['--user=mysql'] : []),
    ];

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const logOffset = await fileSize(errLog);
      server = spawnServer(mariadbd, [...baseArgs, `--port=${port}`]);
      const connection: MariaDbConnection = { host: HOST, port, user: ADMIN_USER, password, socketPath };
      const ready = await waitUntilReady(server, connection, startupTimeoutMs, errLog, logOffset);
      if (ready === 'port-taken' && attempt < PORT_ATTEMPTS) continue;
      if (ready === 'port-taken') {
        throw new Error(
          `mariadbd could not bind a free port in ${PORT_ATTEMPTS} attempts\n${await logTail(errLog)}`,
        );
      }
      // The password only needs to live in the server's memory now.
      await rm(initFile, { force: true });
      return finishStart(server, connection, dir, removeDirSync);
    }
  } catch (error) {
    if (server?.running()) server.child.kill('SIGKILL');
    // Waiting for the exit keeps rm from racing a server that is still writing its files.
    await server?.exited;
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    throw error;
  }
}

interface RunningServer {
  child: ChildProcess;
  exited: Promise<void>;
  running(): boolean;
  /** Set when the process could not be spawned at all. */
  spawnError?: Error;
}

function spawnServer(binary: string, args: string[]): RunningServer {
  // stdio ignored: everything goes to err.log, and an unread pipe could fill and stall the server.
  const child = spawn(binary, args, { stdio: 'ignore' });
  const server: RunningServer = {
    child,
    exited: new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (error) => {
        server.spawnError = error;
        resolve();
      });
    }),
    running: () => child.exitCode === null && child.signalCode === null && server.spawnError === undefined,
  };
  return server;
}

async function waitUntilReady(
  server: RunningServer,
  connection: MariaDbConnection,
  timeoutMs: number,
  errLog: string,
  logOffset: number,
): Promise<'ready' | 'port-taken'> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!server.running()) {
      await server.exited;
      const log = await readFrom(errLog, logOffset);
      // freePort() only says the port was free a moment ago; another process may have taken it since.
      if (/Address already in use|Do you already have another server running on port/i.test(log)) {
        return 'port-taken';
      }
      const how = server.spawnError
        ? `could not be started: ${server.spawnError.message}`
        : `exited during startup (code ${server.child.exitCode}, signal ${server.child.signalCode})`;
      throw new Error(`mariadbd ${how}\n${tail(log)}`);
    }
    try {
      // Logging in as the admin over TCP proves exactly what the tests will do next.
      const probe = await createConnection({
        host: connection.host,
        port: connection.port,
        user: connection.user,
        password: connection.password,
        connectTimeout: 2_000,
      });
      await probe.end();
      return 'ready';
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      server.child.kill('SIGKILL');
      await server.exited;
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `MariaDB did not accept the admin login on ${connection.host}:${connection.port} within ${timeoutMs} ms ` +
          `(last error: ${reason})\n${await logTail(errLog)}`,
      );
    }
    await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
}

function finishStart(
  server: RunningServer,
  connection: MariaDbConnection,
  dir: string,
  removeDirSync: () => void,
): MariaDbHandle {
  // 'exit' handlers run on process.exit(), uncaught exceptions and vitest's own SIGINT/SIGTERM handling.
  const onExit = () => {
    if (server.running()) server.child.kill('SIGKILL');
    try {
      removeDirSync();
    } catch {
      // the watchdog retries once the server is really gone
    }
  };
  process.once('exit', onExit);
  // A SIGKILLed or OOM-killed test runner runs no handler at all; this shell notices the closed pipe.
  const watchdog = startWatchdog(server.child.pid, dir);

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    process.off('exit', onExit);
    // Killed first so it cannot SIGKILL the server halfway through the graceful shutdown below.
    watchdog?.kill('SIGKILL');
    if (server.running()) {
      // SIGTERM is mariadbd's normal shutdown; unlike `mariadb-admin shutdown` it needs no credentials.
      server.child.kill('SIGTERM');
      const graceful = await Promise.race([
        server.exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STOP_GRACE_MS).unref()),
      ]);
      if (!graceful) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  return {
    connection,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

function startWatchdog(serverPid: number | undefined, dir: string): ChildProcess | undefined {
  if (serverPid === undefined) return undefined;
  // `cat` returns when our end of the pipe closes, which the kernel does however this process dies.
  // Detached, so a Ctrl-C to the terminal's process group cannot kill it before it cleans up.
  const script = 'cat >/dev/null; kill -9 "$1" 2>/dev/null; sleep 1; rm -rf -- "$2"';
  const watchdog = spawn('/bin/sh', ['-c', script, 'jit-mariadb-watchdog', String(serverPid), dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  // An open pipe would otherwise keep the test runner's event loop alive after the run.
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
  return watchdog;
}

function rootPasswordSql(password: string): string {
  // mariadb-install-db creates root for each of these hosts with an empty password.
  const hosts = ['localhost', '127.0.0.1', '::1'];
  const lines = hosts.map((host) => `ALTER USER '${ADMIN_USER}'@'${host}' IDENTIFIED BY '${password}';`);
  // The root@<hostname> account is unreachable under --skip-name-resolve but would stay passwordless.
  lines.push(`DROP USER IF EXISTS '${ADMIN_USER}'@'${hostname().replace(/[\\']/g, '')}';`);
  return `${lines.join('\n')}\n`;
}

function mysqlAccount(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('mysql:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      "Running as root but there is no 'mysql' user; install it with: apt-get install -y mariadb-server",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function run(binary: string, args: string[], hint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve();
      // The errors are on stderr; stdout is a long generic help text.
      const output = stderr.trim() ? stderr : stdout;
      reject(new Error(`${binary} failed (exit code ${error.code})${hint}\n${tail(output)}`));
    });
  });
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

async function readFrom(path: string, offset: number): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

async function logTail(errLog: string): Promise<string> {
  return tail(await readFrom(errLog, 0));
}

function tail(text: string, lines = 25): string {
  const kept = text.trimEnd().split('\n').slice(-lines).join('\n');
  return kept ? `--- last lines of the log ---\n${kept}` : '(the log is empty)';
}
