import vault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultEmulator, type VaultEmulator } from '../../local/emulators/vault/vault-emulator.js';
import { awsLoginPayload } from '../../shared/adapters/vault/aws-login.js';
import { awsLoginTokenSource } from '../../shared/adapters/vault/vault-token-source.js';
import { BrokerRejectedError } from '../../shared/ports/credential-broker.js';
import { ManualClock } from '../fixtures/manual-clock.js';
import { holdToVaultSpec } from '../fixtures/vault-world.js';

/*
 * The worker's Vault login by its IAM role: a SigV4-signed sts:GetCallerIdentity, checked by the
 * emulator as STS (the signature, by the keys) and Vault (URL, body, server id, bound principal).
 */

const WORKER = {
  accessKeyId: 'ASIAWORKER0000000001',
  secretAccessKey: 'worker-secret-access-key-0123456789abcdef',
  sessionToken: 'worker-session-token',
  arn: 'arn:aws:sts::123456789012:assumed-role/jit-access-worker/jit-access-worker-fn',
};
const OTHER = {
  ...WORKER,
  accessKeyId: 'ASIAOTHER00000000001',
  arn: 'arn:aws:sts::123456789012:assumed-role/someone-else/x',
};
const clock = new ManualClock(new Date('2026-11-21T10:00:00Z'));
let emulator: VaultEmulator;

beforeAll(async () => {
  emulator = await startVaultEmulator({ clock });
  emulator.addAwsIdentity(WORKER);
  emulator.addAwsIdentity(OTHER);
  const root = vault({
    apiVersion: 'v1',
    endpoint: emulator.url,
    token: emulator.rootToken,
    noCustomHTTPVerbs: true,
  });
  await root.write('auth/aws/role/jit-access-worker', {
    auth_type: 'iam',
    bound_iam_principal_arn: ['arn:aws:iam::123456789012:role/jit-access-worker'],
    token_policies: ['jit-access-worker'],
    token_ttl: '1h',
  });
  await root.write('auth/aws/config/client', { iam_server_id_header_value: 'vault.example.com' });
});

holdToVaultSpec(() => emulator);

afterAll(async () => {
  await emulator?.stop();
});

const login = (payload: Record<string, string>) =>
  vault({ apiVersion: 'v1', endpoint: emulator.url, noCustomHTTPVerbs: true }).write(
    'auth/aws/login',
    payload,
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'succeeded',
    (error: { response?: { statusCode: number; body?: { errors?: string[] } } }) =>
      `${error.response?.statusCode} ${error.response?.body?.errors?.join('; ')}`,
  );
const payloadFor = (identity: typeof WORKER, serverId: string | null = 'vault.example.com') =>
  awsLoginPayload({
    role: 'jit-access-worker',
    credentials: identity,
    now: () => clock.now(),
    ...(serverId ? { serverId } : {}),
  });

describe('Vault AWS IAM login', () => {
  it('logs the worker in: its policy, display name aws-<role>, the role TTL', async () => {
    const { auth } = await login(await payloadFor(WORKER));
    expect(auth).toMatchObject({
      policies: ['default', 'jit-access-worker'],
      lease_duration: 3600,
      orphan: true,
    });
    const self = await vault({
      apiVersion: 'v1',
      endpoint: emulator.url,
      token: auth.client_token,
      noCustomHTTPVerbs: true,
    }).tokenLookupSelf();
    expect(self.data.display_name).toBe('aws-jit-access-worker');
  });

  it('signs what Vault forwards: the GetCallerIdentity request, base64, headers signed', async () => {
    const payload = await payloadFor(WORKER);
    expect(Buffer.from(payload.iam_request_url ?? '', 'base64').toString()).toBe(
      'https://sts.amazonaws.com/',
    );
    expect(Buffer.from(payload.iam_request_body ?? '', 'base64').toString()).toBe(
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
    const headers = JSON.parse(Buffer.from(payload.iam_request_headers ?? '', 'base64').toString()) as Record<
      string,
      string
    >;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAWORKER0000000001\/20261121\/us-east-1\/sts\/aws4_request, SignedHeaders=[^,]*x-vault-aws-iam-server-id/,
    );
    expect(headers['x-amz-security-token']).toBe('worker-session-token');
    expect(JSON.stringify(payload)).not.toContain(WORKER.secretAccessKey);
  });

  it.each([
    [
      'signed with the wrong secret',
      () => payloadFor({ ...WORKER, secretAccessKey: 'not-the-secret-0000000000000000' }),
      'SignatureDoesNotMatch',
    ],
    ['without the server-id header', () => payloadFor(WORKER, null), 'X-Vault-AWS-IAM-Server-ID'],
    [
      'by a principal the role does not bind',
      () => payloadFor(OTHER),
      'IAM Principal "arn:aws:iam::123456789012:role/someone-else" does not belong to the role "jit-access-worker"',
    ],
  ])('refuses a login %s (400)', async (_case, make, message) => {
    const answer = await failure(login(await make()));
    expect(answer).toMatch(/^400 /);
    expect(answer).toContain(message);
  });

  it('the token source logs in once, reuses the token, and logs in again before it runs out', async () => {
    const source = awsLoginTokenSource({
      endpoint: emulator.url,
      role: 'jit-access-worker',
      credentials: async () => WORKER,
      clock,
      serverId: 'vault.example.com',
    });
    const [a, b] = await Promise.all([source(), source()]);
    expect(a).toBe(b);
    clock.advance(47 * 60_000); // 78% of the hour
    expect(await source()).toBe(a);
    clock.advance(2 * 60_000); // past 80%
    const renewed = await source();
    expect(renewed).not.toBe(a);
    clock.set(new Date('2026-11-21T10:00:00Z'));
  });

  it("the token source says which setting to fix when Vault refuses the worker's role", async () => {
    const source = awsLoginTokenSource({
      endpoint: emulator.url,
      role: 'jit-access-worker',
      credentials: async () => OTHER,
      clock,
      serverId: 'vault.example.com',
    });
    const error = await source().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect((error as BrokerRejectedError).setting).toContain('bound_iam_principal_arn');
  });
});
