import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/*
 * The CLI's Vault calls: plain node:http(s), not a Vault client library, because this runs on
 * laptops and a handful of calls do not justify a larger bundle.
 */

export interface VaultTarget {
  readonly address: string;
  readonly namespace?: string;
  /** PEM of the CA that signed Vault's certificate, when it is not a public one. */
  readonly caCert?: string;
}

export interface VaultAnswer {
  readonly status: number;
  /** The JSON body, or undefined when there was none (204) or it was not JSON. */
  readonly body: { data?: unknown; errors?: string[]; [key: string]: unknown } | undefined;
}

export function vaultCall(
  target: VaultTarget,
  call: {
    method: 'GET' | 'POST';
    path: string;
    token: string;
    body?: unknown;
  },
): Promise<VaultAnswer> {
  const url = `${target.address}/v1/${call.path}`;
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method,
        headers: {
          'X-Vault-Token': call.token,
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(target.namespace ? { 'X-Vault-Namespace': target.namespace } : {}),
        },
        timeout: 10_000,
        ...(target.caCert ? { ca: target.caCert } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString('utf8')) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

function parseJson(text: string): VaultAnswer['body'] {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as VaultAnswer['body']) : undefined;
  } catch {
    return undefined;
  }
}
