import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Attribute, Change, Client } from 'ldapts';
import { freePort } from './free-port.js';
import { requireBinary } from './require-binary.js';

export type ActiveDirectoryUserName =
  'engineer' | 'approver' | 'secondApprover' | 'disabled' | 'noGroups' | 'duplicateMailA' | 'duplicateMailB';

export type ActiveDirectoryGroupName = 'eng-db-readers' | 'db-approvers' | 'dba-oncall' | 'platform-leads';

export interface ActiveDirectoryUser {
  dn: string;
  sAMAccountName: string;
  mail: string;
  userPrincipalName: string;
  password: string;
}

/** Everything a test needs to reach the directory. Plain data: it crosses vitest's provide/inject. */
export interface ActiveDirectoryConnection {
  /** ldap://127.0.0.1:<port>; StartTLS works on it. */
  url: string;
  ldapsUrl: string;
  /** PEM of the CA Samba generated at first start; verifies both LDAPS and StartTLS. */
  caCertPath: string;
  /** Name in the server certificate (its CN; there is no SAN), to pass as `servername`. */
  tlsServerName: string;
  baseDn: string;
  realm: string;
  /** Plain domain user (no admin rights) that the app binds as to search. */
  serviceAccount: { dn: string; password: string };
  admin: { dn: string; password: string };
  users: Record<ActiveDirectoryUserName, ActiveDirectoryUser>;
  /** Group cn -> DN. */
  groups: Record<ActiveDirectoryGroupName, string>;
}

export interface ActiveDirectoryHandle {
  connection: ActiveDirectoryConnection;
  /** Temp dir holding the whole domain and the logs (`samba.out`, `bridge-*.log`); removed by `stop()`. */
  directory: string;
  stop(): Promise<void>;
}

export interface ActiveDirectoryOptions {
  /** Give up (and say why, with Samba's log) after this long. Default 60 s. */
  startTimeoutMs?: number;
  /**
   * Samba's default refuses simple binds on unencrypted LDAP (strongAuthRequired); AD as most
   * companies run it accepts them. Default false, i.e. plain-LDAP simple binds work.
   */
  requireStrongAuth?: boolean;
  /** Samba exits on its own after this long, in case every other clean-up failed. Default 12 h. */
  maxRuntimeSeconds?: number;
  /** Leave the temp dir in place on stop() to inspect the log or the database. */
  keepDirectory?: boolean;
}

const REALM = 'EXAMPLE.TEST';
const NETBIOS_DOMAIN = 'EXAMPLE';
const HOST_NAME = 'testdc';
const BASE_DN = 'DC=example,DC=test';
const MAIL_DOMAIN = 'example.test';
const PEOPLE_OU = `OU=People,${BASE_DN}`;
const GROUPS_OU = `OU=Groups,${BASE_DN}`;
const SERVICE_OU = `OU=Service Accounts,${BASE_DN}`;

// userAccountControl flags (MS-ADTS 2.2.16).
const UAC_ACCOUNTDISABLE = 0x2;
const UAC_NORMAL_ACCOUNT = 0x200;
// A global security group; without it Samba would still default to this, but say it explicitly.
const GROUP_TYPE_GLOBAL_SECURITY = -2147483646;

// Unix socket paths are limited to 108 bytes; a long TMPDIR would otherwise fail inside socat.
const MAX_SOCKET_PATH = 100;

interface UserSeed {
  key: ActiveDirectoryUserName;
  cn: string;
  sAMAccountName: string;
  givenName: string;
  sn: string;
  mail: string;
  disabled?: boolean;
}

const USER_SEEDS: readonly UserSeed[] = [
  {
    key: 'engineer',
    cn: 'Alice Engineer',
    sAMAccountName: 'alice',
    givenName: 'Alice',
    sn: 'Engineer',
    mail: 'alice',
  },
  {
    key: 'approver',
    cn: 'Bob Approver',
    sAMAccountName: 'bob',
    givenName: 'Bob',
    sn: 'Approver',
    mail: 'bob',
  },
  // A second approver, two groups deep, for levels that need two distinct approvals.
  {
    key: 'secondApprover',
    cn: 'Frank Approver',
    sAMAccountName: 'frank',
    givenName: 'Frank',
    sn: 'Approver',
    mail: 'frank',
  },
  {
    key: 'disabled',
    cn: 'Carol Disabled',
    sAMAccountName: 'carol',
    givenName: 'Carol',
    sn: 'Disabled',
    mail: 'carol',
    disabled: true,
  },
  {
    key: 'noGroups',
    cn: 'Dave Nogroups',
    sAMAccountName: 'dave',
    givenName: 'Dave',
    sn: 'Nogroups',
    mail: 'dave',
  },
  // Same mailbox on two accounts: lookups by e-mail must detect the ambiguity, not pick one.
  {
    key: 'duplicateMailA',
    cn: 'Erin First',
    sAMAccountName: 'erin',
    givenName: 'Erin',
    sn: 'First',
    mail: 'erin',
  },
  {
    key: 'duplicateMailB',
    cn: 'Erin Second',
    sAMAccountName: 'erin2',
    givenName: 'Erin',
    sn: 'Second',
    mail: 'erin',
  },
];

/**
 * Provisions a throw-away Samba AD DC (realm EXAMPLE.TEST) in a temp dir and seeds users and
 * nested groups. Samba can only listen on 389/636, so it runs in its own network namespace and
 * socat bridges those ports to free loopback ports through unix sockets. Needs root (for the
 * network namespace) and the Debian packages samba-ad-dc, samba-ad-provision, socat, iproute2.
 */
export async function startActiveDirectory(
  options: ActiveDirectoryOptions = {},
): Promise<ActiveDirectoryHandle> {
  const binaries = {
    samba: requireBinary('samba', 'samba-ad-dc'),
    sambaTool: requireBinary('samba-tool', 'samba-common-bin'),
    socat: requireBinary('socat', 'socat'),
    unshare: requireBinary('unshare', 'util-linux'),
    setpriv: requireBinary('setpriv', 'util-linux'),
    ip: requireBinary('ip', 'iproute2'),
    sh: requireBinary('sh', 'dash'),
  };
  // samba-tool itself comes from samba-common-bin, but provisioning fails deep inside Python
  // without the schema files of this package.
  if (!existsSync('/usr/share/samba/setup/provision.ldif')) {
    throw new Error(
      'Samba AD provisioning data (/usr/share/samba/setup) is missing. Install it with: ' +
        'apt-get install -y samba-ad-provision',
    );
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      'startActiveDirectory() needs root: Samba must own ports 389/636, which it only can inside a ' +
        'network namespace of its own (unshare --net).',
    );
  }

  const startedAt = Date.now();
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = startedAt + timeoutMs;
  const dir = mkdtempSync(join(tmpdir(), 'jit-ad-'));
  const logPath = join(dir, 'samba.out');
  const sockets = { ldap: join(dir, 'ldap.sock'), ldaps: join(dir, 'ldaps.sock') };
  if (sockets.ldaps.length > MAX_SOCKET_PATH) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`TMPDIR is too long for unix socket paths (${sockets.ldaps}); set TMPDIR=/tmp`);
  }

  // Child -> what to call it in an error message.
  const children = new Map<ChildProcess, string>();
  let stopping: Promise<void> | undefined;
  const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
  const killAll = (): void => {
    for (const child of children.keys()) if (isRunning(child)) child.kill('SIGKILL');
  };
  // 'exit' covers a run that ends without calling stop(); SIGKILL of Node itself is covered by
  // the death signals set below.
  const onExit = (): void => {
    killAll();
    if (!options.keepDirectory) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const exited = [...children.keys()].filter(isRunning).map((child) => {
        // The children are unref'd; without this Node could exit before their 'exit' events,
        // leaving this promise unsettled and the temp dir behind.
        child.ref();
        return new Promise<void>((resolve) => child.once('exit', () => resolve()));
      });
      killAll();
      await Promise.all(exited);
      if (!options.keepDirectory) {
        // The namespace's last processes may still be dying and creating files for a moment.
        await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      }
      process.removeListener('exit', onExit);
    })();
    return stopping;
  };

  try {
    const adminPassword = generatePassword();
    await provision(binaries.sambaTool, dir, adminPassword, options.requireStrongAuth ?? false, deadline);

    const logFd = openSync(logPath, 'a');
    // setpriv: unshare dies with this Node process even on SIGKILL. --kill-child: the namespace's
    // first process dies with unshare. --pid: that process is PID 1 of its own PID namespace, and
    // when PID 1 dies the kernel kills everything else in it (samba's workers, the inner socats).
    // sh (not exec) stays PID 1 so that samba exiting also tears the namespace down.
    const innerScript = [
      'set -e',
      '"$1" link set lo up',
      '"$2" "UNIX-LISTEN:$5,fork" TCP:127.0.0.1:389 &',
      '"$2" "UNIX-LISTEN:$6,fork" TCP:127.0.0.1:636 &',
      '"$3" --foreground --no-process-group --debug-stdout --model=single --maximum-runtime="$7" -s "$4/etc/smb.conf"',
    ].join('\n');
    const samba = spawn(
      binaries.setpriv,
      [
        '--pdeathsig',
        'KILL',
        '--',
        binaries.unshare,
        '--net',
        '--pid',
        '--fork',
        '--kill-child=SIGKILL',
        binaries.sh,
        '-c',
        innerScript,
        'jit-ad',
        binaries.ip,
        binaries.socat,
        binaries.samba,
        dir,
        sockets.ldap,
        sockets.ldaps,
        String(options.maxRuntimeSeconds ?? 12 * 3600),
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    children.set(samba, 'samba (unshare)');

    const ldapPort = await freePort();
    let ldapsPort = await freePort();
    // The probe socket is closed before the second probe, so the OS may hand out the same port.
    while (ldapsPort === ldapPort) ldapsPort = await freePort();
    for (const [port, socket] of [
      [ldapPort, sockets.ldap],
      [ldapsPort, sockets.ldaps],
    ] as const) {
      const bridgeLogFd = openSync(join(dir, `bridge-${port}.log`), 'a');
      children.set(
        spawn(
          binaries.setpriv,
          [
            '--pdeathsig',
            'KILL',
            '--',
            binaries.socat,
            `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
            `UNIX-CONNECT:${socket}`,
          ],
          { stdio: ['ignore', bridgeLogFd, bridgeLogFd] },
        ),
        `socat bridge for 127.0.0.1:${port}`,
      );
      closeSync(bridgeLogFd);
    }
    // A forgotten stop() must not keep the Node process alive; 'exit' then cleans up.
    for (const child of children.keys()) child.unref();

    const url = `ldap://127.0.0.1:${ldapPort}`;
    const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
    const caCertPath = join(dir, 'private', 'tls', 'ca.pem');
    const tlsServerName = `${HOST_NAME}.${REALM.toLowerCase()}`;
    const admin = { dn: `CN=Administrator,CN=Users,${BASE_DN}`, password: adminPassword };

    await waitUntilReady({ url, ldapsUrl, caCertPath, tlsServerName, deadline, timeoutMs, children, dir });
    checkCertificateName(caCertPath, join(dir, 'private', 'tls', 'cert.pem'), tlsServerName);

    const seeded = await seed({ ldapsUrl, caCertPath, tlsServerName, admin });
    return {
      connection: {
        url,
        ldapsUrl,
        caCertPath,
        tlsServerName,
        baseDn: BASE_DN,
        realm: REALM,
        admin,
        ...seeded,
      },
      directory: dir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function provision(
  sambaTool: string,
  dir: string,
  adminPassword: string,
  strongAuth: boolean,
  deadline: number,
): Promise<void> {
  // Every path Samba would otherwise take from its compiled-in defaults (/var/log, /run,
  // /var/lib) is pointed into the temp dir, so nothing outside it is written.
  const smbOptions = [
    'interfaces=lo',
    'bind interfaces only=yes',
    // Only the LDAP server: no SMB, KDC, DNS, NBT; faster start, fewer ports.
    'server services=ldap',
    `log file=${join(dir, 'samba.log')}`,
    `pid directory=${join(dir, 'run')}`,
    `ntp signd socket directory=${join(dir, 'run', 'ntp_signd')}`,
    `winbindd socket directory=${join(dir, 'run', 'winbindd')}`,
  ];
  const args = [
    'domain',
    'provision',
    `--targetdir=${dir}`,
    `--realm=${REALM}`,
    `--domain=${NETBIOS_DOMAIN}`,
    '--server-role=dc',
    '--dns-backend=NONE',
    '--use-rfc2307',
    `--host-name=${HOST_NAME}`,
    `--adminpass=${adminPassword}`,
    ...smbOptions.map((option) => `--option=${option}`),
  ];
  const output = await run(sambaTool, args, join(dir, 'provision.log'), deadline);
  const confPath = join(dir, 'etc', 'smb.conf');
  // provision silently drops this option from the smb.conf it writes, so add it afterwards.
  const conf = readFileSync(confPath, 'utf8');
  if (!conf.includes('[global]\n')) {
    throw new Error(`samba-tool wrote an unexpected ${confPath}:\n${conf}\n${tail(output)}`);
  }
  writeFileSync(
    confPath,
    conf.replace(
      '[global]\n',
      `[global]\n\tldap server require strong auth = ${strongAuth ? 'yes' : 'no'}\n`,
    ),
  );
}

function run(file: string, args: string[], logPath: string, deadline: number): Promise<string> {
  const timeout = Math.max(1, deadline - Date.now());
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { maxBuffer: 16 * 1024 * 1024, timeout, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        writeFileSync(logPath, output);
        if (error) {
          const why = error.killed ? `killed after ${timeout} ms` : `exit code ${error.code ?? error.signal}`;
          reject(new Error(`${file} ${args.slice(0, 2).join(' ')} failed (${why}):\n${tail(output)}`));
        } else {
          resolve(output);
        }
      },
    );
  });
}

interface ReadinessOptions {
  url: string;
  ldapsUrl: string;
  caCertPath: string;
  tlsServerName: string;
  deadline: number;
  timeoutMs: number;
  children: Map<ChildProcess, string>;
  dir: string;
}

/** Polls until Samba answers a rootDSE read on both bridges, or explains why it never will. */
async function waitUntilReady(o: ReadinessOptions): Promise<void> {
  let lastError: unknown = 'Samba has not created its TLS CA yet';
  for (;;) {
    for (const [child, name] of o.children) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `Samba AD: ${name} exited (${child.exitCode ?? child.signalCode}) before LDAP answered. ` +
            `Logs in ${o.dir}:\n${tailOfFiles(o.dir)}`,
        );
      }
    }
    try {
      // Samba creates its CA while starting; until then there is nothing to verify LDAPS with.
      if (existsSync(o.caCertPath)) {
        const ca = readFileSync(o.caCertPath);
        await readRootDse(new Client({ url: o.url, connectTimeout: 1000, timeout: 2000 }));
        await readRootDse(
          new Client({
            url: o.ldapsUrl,
            connectTimeout: 1000,
            timeout: 2000,
            tlsOptions: { ca, servername: o.tlsServerName },
          }),
        );
        return;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > o.deadline) {
      throw new Error(
        `Samba AD did not answer LDAP within ${o.timeoutMs} ms (last error: ${String(lastError)}). ` +
          `Logs in ${o.dir}:\n${tailOfFiles(o.dir)}`,
      );
    }
    await sleep(100);
  }
}

async function readRootDse(client: Client): Promise<void> {
  try {
    await client.search('', { scope: 'base', attributes: ['defaultNamingContext'] });
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

function checkCertificateName(caCertPath: string, certPath: string, name: string): void {
  const cert = new X509Certificate(readFileSync(certPath));
  if (
    !cert.checkIssued(new X509Certificate(readFileSync(caCertPath))) ||
    cert.checkHost(name) === undefined
  ) {
    throw new Error(
      `Samba's TLS certificate (${cert.subject}) does not match ${name} or its CA ${caCertPath}`,
    );
  }
}

interface SeedOptions {
  ldapsUrl: string;
  caCertPath: string;
  tlsServerName: string;
  admin: { dn: string; password: string };
}

type Seeded = Pick<ActiveDirectoryConnection, 'serviceAccount' | 'users' | 'groups'>;

/** Adds the OUs, users and nested groups over LDAPS (AD only accepts unicodePwd on an encrypted connection). */
async function seed(o: SeedOptions): Promise<Seeded> {
  const client = new Client({
    url: o.ldapsUrl,
    timeout: 15_000,
    tlsOptions: { ca: readFileSync(o.caCertPath), servername: o.tlsServerName },
  });
  try {
    await client.bind(o.admin.dn, o.admin.password);
    for (const ou of [PEOPLE_OU, GROUPS_OU, SERVICE_OU]) {
      await client.add(ou, { objectClass: ['top', 'organizationalUnit'] });
    }

    const serviceAccount = { dn: `CN=svc-jit-access,${SERVICE_OU}`, password: generatePassword() };
    await addUser(client, serviceAccount.dn, serviceAccount.password, {
      sAMAccountName: 'svc-jit-access',
      userPrincipalName: `svc-jit-access@${MAIL_DOMAIN}`,
      displayName: 'JIT access service account',
      description: 'Binds and searches for jit-access; no admin rights',
    });

    const users = {} as Record<ActiveDirectoryUserName, ActiveDirectoryUser>;
    for (const seed of USER_SEEDS) {
      const user: ActiveDirectoryUser = {
        dn: `CN=${seed.cn},${PEOPLE_OU}`,
        sAMAccountName: seed.sAMAccountName,
        mail: `${seed.mail}@${MAIL_DOMAIN}`,
        userPrincipalName: `${seed.sAMAccountName}@${MAIL_DOMAIN}`,
        password: generatePassword(),
      };
      await addUser(
        client,
        user.dn,
        user.password,
        {
          sAMAccountName: user.sAMAccountName,
          userPrincipalName: user.userPrincipalName,
          mail: user.mail,
          givenName: seed.givenName,
          sn: seed.sn,
          displayName: seed.cn,
        },
        seed.disabled ?? false,
      );
      users[seed.key] = user;
    }

    const groups: Record<ActiveDirectoryGroupName, string> = {
      'eng-db-readers': `CN=eng-db-readers,${GROUPS_OU}`,
      'db-approvers': `CN=db-approvers,${GROUPS_OU}`,
      'dba-oncall': `CN=dba-oncall,${GROUPS_OU}`,
      'platform-leads': `CN=platform-leads,${GROUPS_OU}`,
    };
    // Innermost first, so each group can be created with its members in one request.
    // bob reaches db-approvers only through dba-oncall: the in-chain rule must resolve that.
    const memberships: [ActiveDirectoryGroupName, string[]][] = [
      ['platform-leads', [users.secondApprover.dn]],
      ['dba-oncall', [users.approver.dn, groups['platform-leads']]],
      ['db-approvers', [groups['dba-oncall']]],
      ['eng-db-readers', [users.engineer.dn, users.disabled.dn]],
    ];
    for (const [name, members] of memberships) {
      await client.add(groups[name], {
        objectClass: ['top', 'group'],
        sAMAccountName: name,
        groupType: String(GROUP_TYPE_GLOBAL_SECURITY),
        ...(members.length > 0 ? { member: members } : {}),
      });
    }
    return { serviceAccount, users, groups };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

async function addUser(
  client: Client,
  dn: string,
  password: string,
  attributes: Record<string, string>,
  disabled = false,
): Promise<void> {
  const uac = UAC_NORMAL_ACCOUNT | (disabled ? UAC_ACCOUNTDISABLE : 0);
  await client.add(dn, [
    new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
    ...Object.entries(attributes).map(([type, value]) => new Attribute({ type, values: [value] })),
    new Attribute({ type: 'userAccountControl', values: [String(uac)] }),
    new Attribute({ type: 'unicodePwd', values: [encodeUnicodePwd(password)] }),
  ]);
}

/** AD's password attribute: the password in double quotes, UTF-16LE. */
function encodeUnicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le');
}

/** Random, and always meets AD's complexity rule (three of: upper, lower, digit, symbol). */
function generatePassword(): string {
  return `${randomBytes(12).toString('base64url')}-Aa1!`;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Last lines of every log in the temp dir: Samba's output, its log file, the bridges. */
function tailOfFiles(dir: string): string {
  const logs = readdirSync(dir).filter(
    (name) => (name.endsWith('.log') || name.endsWith('.out')) && name !== 'provision.log',
  );
  return logs
    .map((name) => {
      const text = readFileSync(join(dir, name), 'utf8');
      return text.trim() === '' ? '' : `--- ${name}\n${tail(text)}`;
    })
    .filter(Boolean)
    .join('\n');
}

/**
 * Changes the directory the way IT does between two steps of a test: a new person in some groups,
 * or an account disabled or enabled again. Over LDAPS as the domain admin, like the seed.
 */
export class DirectoryAdmin {
  private constructor(
    private readonly client: Client,
    private readonly connection: ActiveDirectoryConnection,
  ) {}

  static async connect(connection: ActiveDirectoryConnection): Promise<DirectoryAdmin> {
    const client = new Client({
      url: connection.ldapsUrl,
      timeout: 15_000,
      tlsOptions: { ca: readFileSync(connection.caCertPath), servername: connection.tlsServerName },
    });
    await client.bind(connection.admin.dn, connection.admin.password);
    return new DirectoryAdmin(client, connection);
  }

  /** A new enabled user `account` (mail `<account>@…`) in `groups`; its own, so tests running beside it are untouched. */
  async addUser(account: string, groups: readonly ActiveDirectoryGroupName[]): Promise<ActiveDirectoryUser> {
    const user: ActiveDirectoryUser = {
      dn: `CN=${account},${PEOPLE_OU}`,
      sAMAccountName: account,
      mail: `${account}@${MAIL_DOMAIN}`,
      userPrincipalName: `${account}@${MAIL_DOMAIN}`,
      password: generatePassword(),
    };
    await addUser(this.client, user.dn, user.password, {
      sAMAccountName: account,
      userPrincipalName: user.userPrincipalName,
      mail: user.mail,
      displayName: account,
    });
    for (const group of groups) {
      await this.client.modify(
        this.connection.groups[group],
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [user.dn] }) }),
      );
    }
    return user;
  }

  async setEnabled(dn: string, enabled: boolean): Promise<void> {
    const uac = UAC_NORMAL_ACCOUNT | (enabled ? 0 : UAC_ACCOUNTDISABLE);
    await this.client.modify(
      dn,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userAccountControl', values: [String(uac)] }),
      }),
    );
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => undefined);
  }
}
