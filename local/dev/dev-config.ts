import * as z from 'zod';
import { environment, jiraEmailSchema, parseEnv, slackBotTokenSchema } from '../../shared/config/env.js';
import type { RealConnectors } from '../stack.js';

/*
 * `npm run dev`'s settings, from `.env` and the environment (.env.example documents each). Every
 * connector is emulated unless its variables are set; a connector half set up is an error that
 * names what is missing, never a silent fall back to the emulator.
 */

const GROUPS = {
  slack: { required: ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'], optional: ['SLACK_API_URL'] },
  jira: { required: ['JIRA_BASE_URL', 'JIRA_EMAIL', 'JIRA_API_TOKEN', 'JIRA_WEBHOOK_SECRET'], optional: [] },
  vault: { required: ['VAULT_ADDR', 'VAULT_TOKEN'], optional: [] },
  ldap: {
    required: ['LDAP_URL', 'LDAP_BIND_DN', 'LDAP_BIND_PASSWORD', 'LDAP_BASE_DN'],
    optional: [
      'LDAP_SECURITY',
      'LDAP_CA_CERT',
      'LDAP_TLS_SERVER_NAME',
      'LDAP_ALLOW_PLAIN',
      'DIRECTORY_LOOKUP_ATTRIBUTE',
    ],
  },
} as const;

type Connector = keyof typeof GROUPS;
const CONNECTORS = Object.keys(GROUPS) as Connector[];
const optionalText = z.string().min(1).optional();

export const devEnvSchema = environment(
  {
    PORT: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535, { error: 'must be a TCP port (0 picks a free one)' })
      .default(3000),
    RECONCILE_EVERY_SECONDS: z.coerce.number().int().min(5, { error: 'must be 5 or more' }).default(60),
    JIT_ACCESS_CONFIG: optionalText,
    SLACK_BOT_TOKEN: slackBotTokenSchema.optional(),
    SLACK_SIGNING_SECRET: z
      .string()
      .min(16, { error: 'looks too short to be a Slack signing secret' })
      .optional(),
    SLACK_API_URL: z.url().optional(),
    JIRA_BASE_URL: z.url({ error: 'must be your Jira site, e.g. https://acme.atlassian.net' }).optional(),
    JIRA_EMAIL: jiraEmailSchema.optional(),
    JIRA_API_TOKEN: optionalText,
    JIRA_WEBHOOK_SECRET: optionalText,
    VAULT_ADDR: z.url({ error: 'must be Vault’s address, e.g. https://vault.example.com:8200' }).optional(),
    VAULT_TOKEN: optionalText,
    LDAP_URL: z
      .string()
      .regex(/^ldaps?:\/\//, { error: 'must be ldap://… or ldaps://…' })
      .optional(),
    LDAP_BIND_DN: optionalText,
    LDAP_BIND_PASSWORD: optionalText,
    LDAP_BASE_DN: optionalText,
    LDAP_SECURITY: optionalText,
    LDAP_CA_CERT: optionalText,
    LDAP_TLS_SERVER_NAME: optionalText,
    LDAP_ALLOW_PLAIN: optionalText,
    DIRECTORY_LOOKUP_ATTRIBUTE: optionalText,
  },
  (env, ctx) => {
    const set = (name: string) => (env as Record<string, unknown>)[name] !== undefined;
    for (const connector of CONNECTORS) {
      const { required, optional } = GROUPS[connector];
      const given = [...required, ...optional].filter(set);
      if (given.length === 0) continue;
      for (const name of required.filter((n) => !set(n))) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `is not set, but ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'}: a real ${connector} needs ${required.join(', ')} (or unset them all to use the emulator)`,
        });
      }
    }
    const ldap = GROUPS.ldap.required.some(set);
    const vault = GROUPS.vault.required.some(set);
    if (ldap !== vault) {
      ctx.addIssue({
        code: 'custom',
        path: [ldap ? 'VAULT_ADDR' : 'LDAP_URL'],
        message: ldap
          ? 'is not set, but the directory is real: the emulated Vault makes users on the private MariaDB, not on your catalog’s servers. Connect a real Vault too, or neither'
          : 'is not set, but Vault is real: your catalog’s approver groups are in your directory, not the emulated one. Connect a real directory too, or neither',
      });
    }
    if ((ldap || vault) && !set('JIT_ACCESS_CONFIG')) {
      ctx.addIssue({
        code: 'custom',
        path: ['JIT_ACCESS_CONFIG'],
        message: 'is not set: with a real directory and Vault, name your catalog (jit-access.config.yaml)',
      });
    }
    if (!ldap && !vault && set('JIT_ACCESS_CONFIG')) {
      ctx.addIssue({
        code: 'custom',
        path: ['JIT_ACCESS_CONFIG'],
        message:
          'is set, but the directory and Vault are emulated: they only fit the built-in demo catalog. Unset it, or connect LDAP_* and VAULT_* too',
      });
    }
  },
);

export interface DevConfig {
  readonly port: number;
  readonly reconcileEveryMs: number;
  /** Your catalog, with a real directory and Vault; the demo world's otherwise. */
  readonly catalogPath: string | undefined;
  readonly connect: RealConnectors;
  readonly real: Readonly<Record<Connector, boolean>>;
}

/** Throws ConfigError naming every variable at fault. */
export function parseDevConfig(env: NodeJS.ProcessEnv): DevConfig {
  const e = parseEnv('npm run dev (.env)', devEnvSchema, env);
  const ldap = Object.fromEntries(
    [...GROUPS.ldap.required, ...GROUPS.ldap.optional].flatMap((name) => (e[name] ? [[name, e[name]]] : [])),
  );
  const connect: RealConnectors = {
    ...(e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET
      ? {
          slack: {
            botToken: e.SLACK_BOT_TOKEN,
            signingSecret: e.SLACK_SIGNING_SECRET,
            ...(e.SLACK_API_URL ? { apiUrl: e.SLACK_API_URL } : {}),
          },
        }
      : {}),
    ...(e.JIRA_BASE_URL && e.JIRA_EMAIL && e.JIRA_API_TOKEN && e.JIRA_WEBHOOK_SECRET
      ? {
          jira: {
            baseUrl: e.JIRA_BASE_URL,
            email: e.JIRA_EMAIL,
            apiToken: e.JIRA_API_TOKEN,
            webhookSecret: e.JIRA_WEBHOOK_SECRET,
          },
        }
      : {}),
    ...(e.VAULT_ADDR && e.VAULT_TOKEN ? { vault: { address: e.VAULT_ADDR, token: e.VAULT_TOKEN } } : {}),
    ...(e.LDAP_URL ? { ldap } : {}),
  };
  return {
    port: e.PORT,
    reconcileEveryMs: e.RECONCILE_EVERY_SECONDS * 1000,
    catalogPath: e.JIT_ACCESS_CONFIG,
    connect,
    real: {
      slack: connect.slack !== undefined,
      jira: connect.jira !== undefined,
      vault: connect.vault !== undefined,
      ldap: connect.ldap !== undefined,
    },
  };
}
