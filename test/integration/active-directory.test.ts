import { readFileSync } from 'node:fs';
import {
  Attribute,
  Change,
  Client,
  InsufficientAccessError,
  InvalidCredentialsError,
  OperationsError,
} from 'ldapts';
import { afterEach, describe, expect, inject, it } from 'vitest';

// Started once for the whole run by test/integration/global-setup.ts; provisioning a domain costs seconds.
const ad = inject('activeDirectory');

// userAccountControl bit 2: ACCOUNTDISABLE (MS-ADTS 2.2.16).
const ACCOUNTDISABLE = 0x2;
const IN_CHAIN = '1.2.840.113556.1.4.1941';
const BIT_AND = '1.2.840.113556.1.4.803';

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.unbind().catch(() => undefined)));
});

const tls = () => ({ ca: readFileSync(ad.caCertPath), servername: ad.tlsServerName });

function client(url = ad.url, verifyWithCa = true): Client {
  // ldapts 8 speaks TLS from the first byte whenever tlsOptions has a value, even for an ldap://
  // URL, so give them only for ldaps:// (StartTLS takes its options separately).
  const tlsOptions = url.startsWith('ldaps:') && verifyWithCa ? tls() : undefined;
  const created = new Client({ url, connectTimeout: 5_000, timeout: 10_000, tlsOptions });
  clients.push(created);
  return created;
}

async function asServiceAccount(url = ad.url): Promise<Client> {
  const c = client(url);
  await c.bind(ad.serviceAccount.dn, ad.serviceAccount.password);
  return c;
}

/**
 * sAMAccountNames matching `filter` under the domain root. AD also answers a subtree search of
 * the root with continuation references to CN=Configuration etc.; ldapts hands those back
 * separately in searchReferences, and an AD client has to ignore them, as this does.
 */
async function accountNames(c: Client, filter: string): Promise<string[]> {
  const { searchEntries } = await c.search(ad.baseDn, {
    scope: 'sub',
    filter,
    attributes: ['sAMAccountName'],
  });
  return searchEntries.map((entry) => String(entry.sAMAccountName)).sort();
}

describe('Samba AD test server', () => {
  it('resolves nested group membership on the server with the in-chain matching rule', async () => {
    const c = await asServiceAccount();
    const approvers = ad.groups['db-approvers'];

    const nested = await accountNames(c, `(&(objectCategory=person)(memberOf:${IN_CHAIN}:=${approvers}))`);
    expect(nested).toEqual([ad.users.approver.sAMAccountName, ad.users.secondApprover.sAMAccountName]);

    // bob is only a direct member of dba-oncall (frank of platform-leads, one further down), so the
    // plain attribute match must see neither.
    const direct = await accountNames(c, `(&(objectCategory=person)(memberOf=${approvers}))`);
    expect(direct).toEqual([]);

    const groupsInChain = await accountNames(c, `(&(objectClass=group)(memberOf:${IN_CHAIN}:=${approvers}))`);
    expect(groupsInChain).toEqual(['dba-oncall', 'platform-leads']);

    const { searchEntries } = await c.search(ad.users.approver.dn, {
      scope: 'base',
      attributes: ['memberOf'],
    });
    expect(searchEntries[0]?.memberOf).toBe(ad.groups['dba-oncall']);
  });

  it('returns continuation references for a subtree search of the domain root', async () => {
    const c = await asServiceAccount();
    const { searchEntries, searchReferences } = await c.search(ad.baseDn, {
      scope: 'sub',
      filter: `(sAMAccountName=${ad.users.engineer.sAMAccountName})`,
      attributes: ['mail', 'userPrincipalName'],
    });
    expect(searchEntries).toEqual([
      {
        dn: ad.users.engineer.dn,
        mail: ad.users.engineer.mail,
        userPrincipalName: ad.users.engineer.userPrincipalName,
      },
    ]);
    expect(searchReferences.some((ref) => ref.includes('CN=Configuration'))).toBe(true);
  });

  it('finds both accounts that share an e-mail address', async () => {
    const c = await asServiceAccount();
    const names = await accountNames(c, `(&(objectCategory=person)(mail=${ad.users.duplicateMailA.mail}))`);
    expect(names).toEqual(
      [ad.users.duplicateMailA.sAMAccountName, ad.users.duplicateMailB.sAMAccountName].sort(),
    );
  });

  it('marks the disabled account with userAccountControl bit 2 and refuses its bind with data 533', async () => {
    const c = await asServiceAccount();
    const { searchEntries } = await c.search(ad.users.disabled.dn, {
      scope: 'base',
      attributes: ['userAccountControl'],
    });
    expect(Number(searchEntries[0]?.userAccountControl) & ACCOUNTDISABLE).toBe(ACCOUNTDISABLE);

    const disabled = await accountNames(c, `(&(objectCategory=person)(userAccountControl:${BIT_AND}:=2))`);
    expect(disabled).toContain(ad.users.disabled.sAMAccountName);
    expect(disabled).not.toContain(ad.users.engineer.sAMAccountName);

    const carol = client();
    const refused = carol.bind(ad.users.disabled.dn, ad.users.disabled.password);
    await expect(refused).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(refused).rejects.toThrow(/data 533/);
  });

  it('accepts the right password (by DN and by userPrincipalName) and refuses a wrong one with data 52e', async () => {
    const { engineer } = ad.users;
    await expect(client().bind(engineer.dn, engineer.password)).resolves.toBeUndefined();
    await expect(client().bind(engineer.userPrincipalName, engineer.password)).resolves.toBeUndefined();

    const wrong = client().bind(engineer.dn, `${engineer.password}x`);
    await expect(wrong).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(wrong).rejects.toThrow(/data 52e/);
  });

  it('refuses an anonymous search but serves the rootDSE', async () => {
    const anonymous = client();
    await expect(
      anonymous.search(ad.baseDn, {
        scope: 'sub',
        filter: '(objectClass=user)',
        attributes: ['sAMAccountName'],
      }),
      // Windows says "000004DC ... a successful bind must be completed", Samba "00002020 ... without
      // authentication"; both send operationsError (1), so that is what a client can rely on.
    ).rejects.toBeInstanceOf(OperationsError);

    const { searchEntries } = await client().search('', {
      scope: 'base',
      attributes: ['defaultNamingContext'],
    });
    expect(searchEntries[0]?.defaultNamingContext).toBe(ad.baseDn);
  });

  it('gives the service account no admin rights', async () => {
    const c = await asServiceAccount();
    const change = new Change({
      operation: 'replace',
      modification: new Attribute({ type: 'description', values: ['changed by the service account'] }),
    });
    await expect(c.modify(ad.users.engineer.dn, change)).rejects.toBeInstanceOf(InsufficientAccessError);
  });

  it('serves LDAPS and StartTLS with a certificate that verifies against the CA', async () => {
    const overLdaps = await asServiceAccount(ad.ldapsUrl);
    expect(await accountNames(overLdaps, `(sAMAccountName=${ad.users.engineer.sAMAccountName})`)).toEqual([
      ad.users.engineer.sAMAccountName,
    ]);

    const startTls = client();
    await startTls.startTLS(tls());
    await startTls.bind(ad.users.engineer.dn, ad.users.engineer.password);

    // Without the CA the self-signed chain must be rejected: proves verification is really on.
    await expect(
      client(ad.ldapsUrl, false).bind(ad.serviceAccount.dn, ad.serviceAccount.password),
    ).rejects.toThrow(/certificate/);
  });
});
