import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { Attribute, BerWriter, Client } from 'ldapts';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { freePort } from '../../local/free-port.js';
import {
  inChainMembershipFilter,
  LdapConfigError,
  LdapDirectory,
  type LdapDirectoryLogger,
  type LdapDirectoryOptions,
  userFilter,
} from '../../shared/adapters/ldap/ldap-directory.js';
import { DirectoryError, DirectoryUnavailableError } from '../../shared/ports/directory.js';
import { directoryContract, type DirectoryContractFixtures } from './directory.contract.js';

// Started once for the whole run by test/integration/global-setup.ts.
const ad = inject('activeDirectory');
const caCert = readFileSync(ad.caCertPath, 'utf8');
const ldapsPort = Number(new URL(ad.ldapsUrl).port);
const ldapPort = Number(new URL(ad.url).port);

const fixtures: DirectoryContractFixtures = {
  engineer: ad.users.engineer,
  approver: ad.users.approver,
  disabled: ad.users.disabled,
  noGroups: ad.users.noGroups,
  sharedMail: ad.users.duplicateMailA.mail,
  groups: {
    direct: ad.groups['eng-db-readers'],
    nested: ad.groups['db-approvers'],
    intermediate: ad.groups['dba-oncall'],
    unrelated: ad.groups['platform-leads'],
  },
};

function options(overrides: Partial<LdapDirectoryOptions> = {}): LdapDirectoryOptions {
  return {
    url: ad.ldapsUrl,
    bindDn: ad.serviceAccount.dn,
    bindPassword: ad.serviceAccount.password,
    baseDn: ad.baseDn,
    security: 'ldaps',
    caCert,
    tlsServerName: ad.tlsServerName,
    timeoutMs: 5_000,
    ...overrides,
  };
}

const startTlsOverrides = { url: ad.url, security: 'starttls' } as const;

directoryContract('LdapDirectory on Samba AD over LDAPS', async () => {
  const directory = new LdapDirectory(options());
  return { directory, fixtures, teardown: () => directory.close() };
});

directoryContract('LdapDirectory on Samba AD over StartTLS', async () => {
  const directory = new LdapDirectory(options(startTlsOverrides));
  return { directory, fixtures, teardown: () => directory.close() };
});

const opened: LdapDirectory[] = [];
function directory(overrides: Partial<LdapDirectoryOptions> = {}): LdapDirectory {
  const created = new LdapDirectory(options(overrides));
  opened.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((created) => created.close()));
});

/** The rejection of `promise`, failing the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Everything an error would show when logged: message, stack, own properties, the cause chain. */
function everythingIn(error: unknown): string {
  return inspect(error, { depth: Infinity, showHidden: true });
}

/** A TCP relay in front of the DC, to count connections and cut them at will. */
async function startRelay(targetPort: number) {
  const sockets = new Set<Socket>();
  let connections = 0;
  let cutOnNextRequest = false;
  const server = createServer((downstream) => {
    connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = [downstream, upstream];
    for (const socket of pair) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        for (const other of pair) {
          other.destroy();
          sockets.delete(other);
        }
      });
    }
    downstream.on('data', (chunk: Buffer) => {
      if (cutOnNextRequest) {
        cutOnNextRequest = false;
        downstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(downstream);
  });
  const port = await listen(server);
  const cutAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size / 2;
    },
    cutAll,
    /** The next request on any connection dies with its connection, unanswered. */
    cutOnNextRequest: () => {
      cutOnNextRequest = true;
    },
    close: async () => {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Accepts TCP connections and never says a word: a firewall that drops, a hung server. */
async function startBlackHole() {
  const held = new Set<Socket>();
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function capturingLogger(): LdapDirectoryLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (message, attributes) => lines.push(`debug ${message} ${JSON.stringify(attributes)}`),
    warn: (message, attributes) => lines.push(`warn ${message} ${JSON.stringify(attributes)}`),
  };
}

describe('LdapDirectory configuration', () => {
  it('refuses plain LDAP unless allowPlain is exactly true', () => {
    for (const allowPlain of [undefined, false]) {
      expect(() => new LdapDirectory(options({ url: ad.url, security: 'plain', allowPlain }))).toThrow(
        LdapConfigError,
      );
    }
    expect(() => new LdapDirectory(options({ url: ad.url, security: 'plain' }))).toThrow(/allowPlain/);
  });

  it('works over plain LDAP when allowPlain: true is given (local test directories only)', async () => {
    const plain = directory({ url: ad.url, security: 'plain', allowPlain: true });
    expect(await plain.findUser('mail', ad.users.engineer.mail)).toMatchObject({ dn: ad.users.engineer.dn });
  });

  it('refuses a URL scheme that contradicts the security mode', () => {
    expect(() => new LdapDirectory(options({ url: ad.url, security: 'ldaps' }))).toThrow(LdapConfigError);
    expect(() => new LdapDirectory(options({ url: ad.ldapsUrl, security: 'starttls' }))).toThrow(
      LdapConfigError,
    );
    expect(
      () => new LdapDirectory(options({ url: ad.ldapsUrl, security: 'plain', allowPlain: true })),
    ).toThrow(LdapConfigError);
    expect(() => new LdapDirectory(options({ url: 'http://127.0.0.1:389' }))).toThrow(LdapConfigError);
  });

  it('refuses an empty password: it would be an unauthenticated bind (RFC 4513 5.1.2)', () => {
    expect(() => new LdapDirectory(options({ bindPassword: '' }))).toThrow(/bindPassword/);
  });

  it('refuses credentials in the URL without repeating them', () => {
    const error = (() => {
      try {
        new LdapDirectory(options({ url: 'ldaps://svc:Hunter2-in-url@127.0.0.1:636' }));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(LdapConfigError);
    expect(everythingIn(error)).not.toContain('Hunter2-in-url');
  });

  it('refuses a CA given as a path instead of PEM text', () => {
    expect(() => new LdapDirectory(options({ caCert: ad.caCertPath }))).toThrow(/PEM/);
  });
});

describe('LdapDirectory filters', () => {
  // ldapts' string filter parser would turn "\d0\b0" into U+00D0 U+00B0 and send C3 90 C2 B0;
  // the adapter never builds filter strings, so the server receives the real UTF-8 bytes.
  it('sends non-ASCII values as their exact UTF-8 bytes', () => {
    const writer = new BerWriter();
    userFilter('mail', 'аlice@example.test').write(writer);
    const hex = writer.buffer.toString('hex');
    expect(hex).toContain(Buffer.from('аlice@example.test').toString('hex'));
    expect(hex).not.toContain('c390c2b0');
  });

  it('carries filter metacharacters as data, not syntax', () => {
    const writer = new BerWriter();
    inChainMembershipFilter('CN=x)(|(objectClass=*),DC=example,DC=test').write(writer);
    expect(writer.buffer.toString('latin1')).toContain('CN=x)(|(objectClass=*),DC=example,DC=test');
  });
});

describe('LdapDirectory on a non-ASCII account and group', () => {
  const suffix = randomBytes(3).toString('hex');
  const user = {
    dn: `CN=Zoë Ünïcode ${suffix},OU=People,${ad.baseDn}`,
    mail: `zoë.${suffix}@example.test`,
    sAMAccountName: `zoe-${suffix}`,
  };
  const groupDn = `CN=Zürich DBAs ${suffix},OU=Groups,${ad.baseDn}`;
  let admin: Client;

  beforeAll(async () => {
    admin = new Client({
      url: ad.ldapsUrl,
      timeout: 10_000,
      tlsOptions: { ca: caCert, servername: ad.tlsServerName },
    });
    await admin.bind(ad.admin.dn, ad.admin.password);
    await admin.add(user.dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [user.sAMAccountName] }),
      new Attribute({ type: 'userPrincipalName', values: [user.mail] }),
      new Attribute({ type: 'mail', values: [user.mail] }),
      new Attribute({ type: 'userAccountControl', values: ['512'] }),
      new Attribute({
        type: 'unicodePwd',
        values: [Buffer.from(`"${randomBytes(12).toString('base64url')}-Aa1!"`, 'utf16le')],
      }),
    ]);
    await admin.add(groupDn, {
      objectClass: ['top', 'group'],
      sAMAccountName: `zurich-${suffix}`,
      member: [user.dn],
    });
  });

  afterAll(async () => {
    await admin.del(groupDn).catch(() => undefined);
    await admin.del(user.dn).catch(() => undefined);
    await admin.unbind();
  });

  it.each([
    ['LDAPS', {}],
    ['StartTLS', startTlsOverrides],
  ])(
    'finds the account by its exact address and case variant, and its group, over %s',
    async (_, overrides) => {
      const d = directory(overrides);
      expect(await d.findUser('mail', user.mail)).toMatchObject({
        dn: user.dn,
        mail: user.mail,
        enabled: true,
      });
      expect(await d.findUser('mail', user.mail.toUpperCase())).toMatchObject({ dn: user.dn });
      expect(await d.findUser('userPrincipalName', user.mail)).toMatchObject({ dn: user.dn });
      // Exact means exact: neither the ASCII-folded nor the decomposed (e + U+0308) spelling.
      expect(await d.findUser('mail', user.mail.replace('ë', 'e'))).toBeUndefined();
      expect(await d.findUser('mail', user.mail.normalize('NFD'))).toBeUndefined();
      expect(await d.firstGroupOf(user.dn, [ad.groups['eng-db-readers'], groupDn])).toBe(groupDn);
      expect(await d.firstGroupOf(ad.users.engineer.dn, [groupDn])).toBeUndefined();
    },
  );
});

describe('LdapDirectory when the directory cannot be asked', () => {
  it.each([
    ['LDAPS', 'ldaps', 'ldaps'],
    ['StartTLS', 'ldap', 'starttls'],
  ] as const)(
    'fails fast with DirectoryUnavailableError on a closed port (%s)',
    async (_, scheme, security) => {
      const port = await freePort();
      const d = directory({ url: `${scheme}://127.0.0.1:${port}`, security, timeoutMs: 3_000 });
      const startedAt = Date.now();
      const error = await rejectionOf(d.findUser('mail', ad.users.engineer.mail));
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      expect(error).toBeInstanceOf(DirectoryUnavailableError);
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
      await expect(
        d.firstGroupOf(ad.users.engineer.dn, [ad.groups['eng-db-readers']]),
      ).rejects.toBeInstanceOf(DirectoryUnavailableError);
    },
  );

  it.each([
    ['LDAPS (TLS handshake never answered)', 'ldaps', 'ldaps'],
    ['StartTLS (extended operation never answered)', 'ldap', 'starttls'],
  ] as const)('gives up after timeoutMs on a server that never answers: %s', async (_, scheme, security) => {
    const hole = await startBlackHole();
    try {
      const d = directory({ url: `${scheme}://127.0.0.1:${hole.port}`, security, timeoutMs: 400 });
      const startedAt = Date.now();
      const error = await rejectionOf(d.findUser('mail', ad.users.engineer.mail));
      const elapsed = Date.now() - startedAt;
      expect(error).toBeInstanceOf(DirectoryUnavailableError);
      expect((error as Error).message).toMatch(/time/);
      expect(elapsed).toBeGreaterThanOrEqual(350);
      expect(elapsed).toBeLessThan(1_500);
    } finally {
      await hole.close();
    }
  });

  it.each([
    ['LDAPS', {}],
    ['StartTLS', startTlsOverrides],
  ])('refuses a certificate it cannot verify (%s)', async (_, overrides) => {
    const untrusted = directory({ ...overrides, caCert: undefined });
    const unknownCa = await rejectionOf(untrusted.findUser('mail', ad.users.engineer.mail));
    expect(unknownCa).toBeInstanceOf(DirectoryUnavailableError);
    expect((unknownCa as Error).message).toMatch(/CERT|SIGNATURE|ISSUER/);

    const wrongName = directory({ ...overrides, tlsServerName: 'ldap.elsewhere.test' });
    const mismatch = await rejectionOf(wrongName.findUser('mail', ad.users.engineer.mail));
    expect(mismatch).toBeInstanceOf(DirectoryUnavailableError);
    expect((mismatch as Error).message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it.each([
    ['LDAPS', {}],
    ['StartTLS', startTlsOverrides],
  ])(
    'reports a wrong service password as DirectoryUnavailableError that never shows it (%s)',
    async (_, overrides) => {
      const wrongPassword = `wrong-${randomUUID()}`;
      const d = directory({ ...overrides, bindPassword: wrongPassword });
      const errors = [
        await rejectionOf(d.findUser('mail', ad.users.engineer.mail)),
        await rejectionOf(d.firstGroupOf(ad.users.engineer.dn, [ad.groups['eng-db-readers']])),
      ];
      for (const error of errors) {
        expect(error).toBeInstanceOf(DirectoryUnavailableError);
        const { message } = error as Error;
        expect(message).toMatch(/bind refused \(invalidCredentials, AD data 52e: wrong password\)/);
        // Generic: no server diagnostic text, no bind DN.
        expect(message).not.toMatch(/AcceptSecurityContext|DSID|80090308/);
        expect(message).not.toContain(ad.serviceAccount.dn);
        const everything = everythingIn(error);
        expect(everything).not.toContain(wrongPassword);
        expect(everything).not.toContain(ad.serviceAccount.password);
      }
    },
  );

  it('reports a missing search base as a permanent DirectoryError without the server text', async () => {
    const d = directory({ baseDn: `OU=Nowhere,${ad.baseDn}` });
    const error = await rejectionOf(d.findUser('mail', ad.users.engineer.mail));
    expect(error).toBeInstanceOf(DirectoryError);
    expect(error).not.toBeInstanceOf(DirectoryUnavailableError);
    expect((error as Error).message).toBe('Directory search base not found (noSuchObject)');
  });
});

describe('LdapDirectory connection reuse', () => {
  it('opens one connection for many calls, concurrent ones included', async () => {
    const relay = await startRelay(ldapsPort);
    try {
      const d = directory({ url: `ldaps://127.0.0.1:${relay.port}` });
      await Promise.all([
        d.findUser('mail', ad.users.engineer.mail),
        d.findUser('mail', ad.users.approver.mail),
        d.firstGroupOf(ad.users.approver.dn, Object.values(ad.groups)),
      ]);
      await d.findUser('userPrincipalName', ad.users.engineer.userPrincipalName);
      expect(relay.connections).toBe(1);
      await d.close();
      await vi.waitFor(() => expect(relay.open).toBe(0));
    } finally {
      await relay.close();
    }
  });

  const modes = [
    ['LDAPS', ldapsPort, 'ldaps', 'ldaps'],
    ['StartTLS', ldapPort, 'ldap', 'starttls'],
  ] as const;

  it.each(modes)(
    'replaces a connection the peer closed while idle (%s)',
    async (_, port, scheme, security) => {
      const relay = await startRelay(port);
      try {
        const d = directory({ url: `${scheme}://127.0.0.1:${relay.port}`, security });
        expect(await d.findUser('mail', ad.users.engineer.mail)).toBeDefined();
        relay.cutAll();
        // Let the client see the close: ldapts would then redial unbound (and, after StartTLS,
        // unencrypted), or after StartTLS not notice at all and wait for the timeout.
        await sleep(50);
        const startedAt = Date.now();
        expect(await d.findUser('mail', ad.users.engineer.mail)).toMatchObject({ dn: ad.users.engineer.dn });
        expect(await d.firstGroupOf(ad.users.approver.dn, [ad.groups['db-approvers']])).toBe(
          ad.groups['db-approvers'],
        );
        expect(Date.now() - startedAt).toBeLessThan(1_000);
        expect(relay.connections).toBe(2);
      } finally {
        await relay.close();
      }
    },
  );

  it.each(modes)(
    'retries once on a new connection when one dies mid-request (%s)',
    async (_, port, scheme, security) => {
      const relay = await startRelay(port);
      const logger = capturingLogger();
      try {
        const d = directory({ url: `${scheme}://127.0.0.1:${relay.port}`, security, logger });
        expect(await d.findUser('mail', ad.users.engineer.mail)).toBeDefined();
        relay.cutOnNextRequest();
        expect(await d.firstGroupOf(ad.users.approver.dn, [ad.groups['db-approvers']])).toBe(
          ad.groups['db-approvers'],
        );
        relay.cutOnNextRequest();
        expect(await d.findUser('mail', ad.users.engineer.mail)).toMatchObject({ dn: ad.users.engineer.dn });
        expect(relay.connections).toBe(3);
        expect(logger.lines.filter((line) => line.startsWith('warn directory connection lost'))).toHaveLength(
          2,
        );
      } finally {
        await relay.close();
      }
    },
  );

  it('does not retry a fresh connection: a server that drops every request fails the call', async () => {
    const relay = await startRelay(ldapsPort);
    try {
      const d = directory({ url: `ldaps://127.0.0.1:${relay.port}` });
      relay.cutOnNextRequest();
      await expect(d.findUser('mail', ad.users.engineer.mail)).rejects.toBeInstanceOf(
        DirectoryUnavailableError,
      );
      expect(relay.connections).toBe(1);
    } finally {
      await relay.close();
    }
  });

  it('does not reuse a connection idle for longer than maxIdleMs', async () => {
    const relay = await startRelay(ldapsPort);
    try {
      const d = directory({ url: `ldaps://127.0.0.1:${relay.port}`, maxIdleMs: 100 });
      await d.findUser('mail', ad.users.engineer.mail);
      await d.findUser('mail', ad.users.engineer.mail);
      expect(relay.connections).toBe(1);
      await sleep(200);
      await d.findUser('mail', ad.users.engineer.mail);
      expect(relay.connections).toBe(2);
      // The stale one is closed, not leaked.
      await vi.waitFor(() => expect(relay.open).toBe(1));
    } finally {
      await relay.close();
    }
  });
});

describe('LdapDirectory logging', () => {
  it('never logs a password, through its logger or on the console', async () => {
    const logger = capturingLogger();
    const printed: string[] = [];
    const capture = (chunk: unknown): boolean => {
      printed.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
        vi
          .spyOn(console, level)
          .mockImplementation((...args: unknown[]) => void printed.push(args.join(' '))),
      ),
    ];
    const wrongPassword = `wrong-${randomUUID()}`;
    const relay = await startRelay(ldapsPort);
    try {
      const d = directory({ url: `ldaps://127.0.0.1:${relay.port}`, logger });
      await d.findUser('mail', ad.users.engineer.mail);
      relay.cutOnNextRequest();
      await d.firstGroupOf(ad.users.engineer.dn, [ad.groups['eng-db-readers']]);
      await rejectionOf(
        directory({ bindPassword: wrongPassword, logger }).findUser('mail', 'x@example.test'),
      );
      await rejectionOf(
        directory({ url: `ldaps://127.0.0.1:${await freePort()}`, logger }).findUser(
          'mail',
          'x@example.test',
        ),
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
      await relay.close();
    }
    // Not vacuous: the adapter did log the connection and the retry.
    expect(logger.lines.some((line) => line.startsWith('debug directory connection opened'))).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('warn directory connection lost'))).toBe(true);
    const everything = [...logger.lines, ...printed].join('\n');
    expect(everything).not.toContain(ad.serviceAccount.password);
    expect(everything).not.toContain(wrongPassword);
  });

  // ldapts logs every request with util.debuglog('ldapts'), enabled only at process start.
  it("keeps the password out of ldapts' NODE_DEBUG output", async () => {
    const adapter = fileURLToPath(new URL('../../shared/adapters/ldap/ldap-directory.ts', import.meta.url));
    const script = `
      import { LdapDirectory } from ${JSON.stringify(adapter)};
      const o = JSON.parse(process.env.JIT_TEST_OPTIONS);
      const d = new LdapDirectory(o);
      const user = await d.findUser('mail', o.mail);
      await d.firstGroupOf(user.dn, [o.group]);
      await d.close();
      await new LdapDirectory({ ...o, bindPassword: o.wrong }).findUser('mail', o.mail).catch(() => {});
      console.log('done', user.sAMAccountName);
    `;
    const wrongPassword = `wrong-${randomUUID()}`;
    const env = {
      ...process.env,
      NODE_DEBUG: 'ldapts',
      JIT_TEST_OPTIONS: JSON.stringify({
        ...options(),
        mail: ad.users.engineer.mail,
        group: ad.groups['eng-db-readers'],
        wrong: wrongPassword,
      }),
    };
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '--eval', script],
        { env, timeout: 20_000 },
        (error, stdout, stderr) => (error ? reject(error) : resolve(`${stdout}${stderr}`)),
      );
    });
    expect(output).toContain(`done ${ad.users.engineer.sAMAccountName}`);
    // Not vacuous: the bind request was logged, redacted.
    expect(output).toMatch(/BindRequest|__redacted__/);
    expect(output).not.toContain(ad.serviceAccount.password);
    expect(output).not.toContain(wrongPassword);
  });
});
