import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import * as z from 'zod';

/*
 * The deployment file (jit-access.deploy.yaml): where jit-access runs and what it talks to. Read
 * and validated before `cdk synth` builds anything, with the YAML line of each problem, so a
 * deployment can never be subtly wrong (a subnet in no AZ, an LDAP URL without TLS, a Vault
 * address over plain HTTP).
 */

const vpcId = z
  .string()
  .regex(/^vpc-[0-9a-f]{8,17}$/, { error: 'must be a VPC id such as vpc-0a1b2c3d4e5f60718' });
const subnetId = z
  .string()
  .regex(/^subnet-[0-9a-f]{8,17}$/, { error: 'must be a subnet id such as subnet-0a1b2c3d4e5f60718' });
const https = (example: string) =>
  z.url({ protocol: /^https$/, error: `must be an https:// URL, e.g. ${example}` });

export const deploySchema = z
  .object({
    catalog: z
      .string()
      .min(1)
      .optional()
      .describe('The catalog, relative to this file; `-c catalog=…` overrides it'),
    vpc: z
      .object({
        id: vpcId,
        availabilityZones: z
          .array(
            z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, {
              error: 'must be an availability zone such as eu-west-1a',
            }),
          )
          .min(1),
        privateSubnetIds: z
          .array(subnetId)
          .min(1, { error: 'must list the private subnets the worker runs in' }),
      })
      .strict()
      .refine((vpc) => vpc.privateSubnetIds.length === vpc.availabilityZones.length, {
        error: 'privateSubnetIds and availabilityZones must pair up: one subnet per zone, in the same order',
        path: ['privateSubnetIds'],
      }),
    vault: z
      .object({
        address: https('https://vault.example.com:8200'),
        awsAuthRole: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be the name of a role in Vault’s AWS auth method' }),
        serverId: z
          .string()
          .min(1)
          .optional()
          .describe('The X-Vault-AWS-IAM-Server-ID header the auth method checks, when set'),
        namespace: z.string().min(1).optional(),
        port: z.number().int().min(1).max(65535).default(8200),
      })
      .strict(),
    ldap: z
      .object({
        url: z.string().regex(/^ldaps:\/\/[^/\s]+$/, {
          error: 'must be ldaps://host[:port]: the bind password never crosses the network in the clear',
        }),
        bindDn: z.string().min(3),
        baseDn: z.string().min(3),
        caCertFile: z
          .string()
          .min(1)
          .optional()
          .describe('PEM of the CA behind the DC’s certificate, relative to this file'),
      })
      .strict(),
    jira: z
      .object({
        site: https('https://acme.atlassian.net')
          .optional()
          .describe(
            'The Jira site; the catalog’s global.jira.site when not given, and it must agree with it',
          ),
        email: z.email({ error: 'must be the e-mail of the Jira account jit-access acts as' }),
      })
      .strict(),
    slack: z
      .object({
        teamId: z
          .string()
          .regex(/^T[A-Z0-9]+$/, { error: 'must be a Slack team id such as T0123ABCD' })
          .optional(),
      })
      .strict()
      .default({}),
    alarmEmail: z.email({ error: 'must be the e-mail address the alarms go to' }),
    worker: z
      .object({
        reservedConcurrency: z.number().int().min(1).max(1000).default(10),
      })
      .strict()
      .default({ reservedConcurrency: 10 }),
  })
  .strict();

export type DeployConfig = z.output<typeof deploySchema> & {
  /** Where the file is: relative paths in it are resolved from there. */
  readonly directory: string;
};

export class DeployConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is not a valid deployment:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'DeployConfigError';
  }
}

export function loadDeployConfig(path: string): DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DeployConfigError(path, [
      code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'unreadable'})`,
    ]);
  }
  return { ...parseDeployConfig(text, path), directory: dirname(resolve(path)) };
}

export function parseDeployConfig(text: string, source = 'deployment'): z.output<typeof deploySchema> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number) => lines.linePos(offset).line;
  if (doc.errors.length > 0) {
    throw new DeployConfigError(
      source,
      doc.errors.map(
        (error) => `not valid YAML: ${error.message.split('\n')[0]} (line ${lineAt(error.pos[0])})`,
      ),
    );
  }
  if (!isMap(doc.contents))
    throw new DeployConfigError(source, ['expected a YAML mapping (vpc, vault, ldap, jira, alarmEmail)']);
  const result = deploySchema.safeParse(doc.toJS());
  if (result.success) return result.data;
  throw new DeployConfigError(
    source,
    result.error.issues
      .map((issue) => {
        const path = issue.path.map(String);
        const unknown = issue.code === 'unrecognized_keys' ? issue.keys : [];
        const named = unknown.length > 0 ? [...path, unknown[0]!] : path;
        const line = lineOf(doc.contents, named, lineAt);
        const where = named.join('.') || '(top level)';
        const message =
          issue.code === 'unrecognized_keys'
            ? `not a setting here (misspelled?)${unknown.length > 1 ? `; nor are ${unknown.slice(1).join(', ')}` : ''}`
            : issue.code === 'invalid_type' && issue.input === undefined
              ? 'is missing'
              : issue.message;
        // A missing setting has no line of its own; the map it belongs in is named by the path.
        const missing = issue.code === 'invalid_type' && issue.input === undefined;
        return {
          line: missing ? 0 : (line ?? 0),
          text: `${where}: ${message}${line && !missing ? ` (line ${line})` : ''}`,
        };
      })
      .sort((a, b) => a.line - b.line)
      .map((problem) => problem.text),
  );
}

/** The line of the deepest node along `path` that the file has. */
function lineOf(
  root: unknown,
  path: readonly string[],
  lineAt: (offset: number) => number,
): number | undefined {
  let node = root as Node | undefined;
  let line = node?.range ? lineAt(node.range[0]) : undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => String((item.key as { value?: unknown })?.value) === key);
      if (!pair) break;
      const keyNode = pair.key as Node | undefined;
      if (keyNode?.range) line = lineAt(keyNode.range[0]);
      node = pair.value as Node | undefined;
    } else if (isSeq(node)) {
      node = node.items[Number(key)] as Node | undefined;
      if (node?.range) line = lineAt(node.range[0]);
    } else break;
  }
  return line;
}
