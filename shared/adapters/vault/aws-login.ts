import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/*
 * Vault's AWS IAM login, as the worker does it from Lambda: a SigV4-signed
 * `sts:GetCallerIdentity` request that Vault forwards to STS to learn who signed it. No secret is
 * stored for Vault; the Lambda's role is the identity. See auth/aws in
 * ../shared/notes/vault-scheduler.md §5.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsLoginOptions {
  /** The Vault AWS auth role the worker logs in as. */
  readonly role: string;
  readonly credentials: AwsCredentials;
  /** The STS region signed for; the global endpoint signs for us-east-1, as Vault expects by default. */
  readonly region?: string;
  /** Vault's `iam_server_id_header_value`, when configured: sent and signed as X-Vault-AWS-IAM-Server-ID. */
  readonly serverId?: string;
  readonly now?: () => Date;
}

export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const STS_URL = 'https://sts.amazonaws.com/';

/** The body for `auth/aws/login`: the signed request, base64 as Vault wants it. */
export async function awsLoginPayload(options: AwsLoginOptions): Promise<Record<string, string>> {
  const region = options.region ?? 'us-east-1';
  const signer = new SignatureV4({
    credentials: options.credentials,
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: 'sts.amazonaws.com',
      path: '/',
      headers: {
        host: 'sts.amazonaws.com',
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        ...(options.serverId ? { 'x-vault-aws-iam-server-id': options.serverId } : {}),
      },
      body: GET_CALLER_IDENTITY_BODY,
    },
    options.now ? { signingDate: options.now() } : {},
  );
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return {
    role: options.role,
    iam_http_request_method: 'POST',
    iam_request_url: b64(STS_URL),
    iam_request_body: b64(GET_CALLER_IDENTITY_BODY),
    iam_request_headers: b64(JSON.stringify(signed.headers)),
  };
}

/** SigV4's checksum interface on node:crypto: a keyed constructor is an HMAC. */
export class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.fresh();
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
