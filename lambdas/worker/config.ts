import * as z from 'zod';
import {
  environment,
  jiraEmailSchema,
  requireOneOf,
  secretArnSchema as secretArn,
  slackBotTokenSchema,
  snsTopicArnSchema,
} from '../../shared/config/env.js';

/** The worker Lambda's environment, validated at cold start. */
export const workerEnvSchema = environment(
  {
    SLACK_BOT_TOKEN: slackBotTokenSchema.optional(),
    SLACK_BOT_TOKEN_ARN: secretArn.optional(),
    REQUESTS_TABLE: z
      .string({ error: 'is not set' })
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: 'must be a DynamoDB table name' }),
    LDAP_URL: z
      .string({ error: 'is not set' })
      .regex(/^ldaps?:\/\/[^\s/]+(:\d+)?\/?$/, { error: 'must be ldap://host:port or ldaps://host:port' }),
    LDAP_SECURITY: z
      .enum(['ldaps', 'starttls', 'plain'], { error: 'must be ldaps, starttls or plain' })
      .default('ldaps'),
    LDAP_ALLOW_PLAIN: z.enum(['true', 'false']).default('false'),
    LDAP_BIND_DN: z.string({ error: 'is not set' }).min(3),
    LDAP_BIND_PASSWORD: z.string().min(1).optional(),
    LDAP_BIND_PASSWORD_ARN: secretArn.optional(),
    LDAP_BASE_DN: z.string({ error: 'is not set' }).min(3),
    /** PEM of the CA that signed the directory's certificate, when it is not publicly trusted. */
    LDAP_CA_CERT: z.string().includes('BEGIN CERTIFICATE', { error: 'must be a PEM certificate' }).optional(),
    LDAP_TLS_SERVER_NAME: z.string().optional(),
    DIRECTORY_LOOKUP_ATTRIBUTE: z
      .enum(['mail', 'userPrincipalName'], { error: 'must be mail or userPrincipalName' })
      .default('mail'),
    JIRA_EMAIL: jiraEmailSchema,
    JIRA_API_TOKEN: z.string().min(1).optional(),
    JIRA_API_TOKEN_ARN: secretArn.optional(),
    /** Only for the local stack and tests: the Jira emulator instead of the catalog's site. */
    JIRA_BASE_URL: z.url().optional(),
    JIT_ACCESS_CONFIG: z.string().min(1).optional(),
    SLACK_API_URL: z.url().optional(),
    /** Where expiry schedules publish `grant.expire`: the access topic. */
    ACCESS_TOPIC_ARN: snsTopicArnSchema,
    EXPIRY_SCHEDULE_GROUP: z
      .string({ error: 'is not set' })
      .regex(/^[0-9a-zA-Z\-_.]{1,64}$/, { error: 'must be an EventBridge Scheduler group name' }),
    EXPIRY_SCHEDULER_ROLE_ARN: z
      .string({ error: 'is not set' })
      .regex(/^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[0-9a-zA-Z_/+=,.@-]+$/, {
        error: 'must be the ARN of the role EventBridge Scheduler assumes to publish to the topic',
      }),
    VAULT_ADDR: z
      .url({ protocol: /^https?$/, error: 'must be the URL of Vault, e.g. https://vault.internal:8200' })
      .optional(),
    VAULT_NAMESPACE: z.string().min(1).optional(),
    /** The Vault AWS auth role the worker logs in with (its IAM role is bound to it). */
    VAULT_AWS_ROLE: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/, { error: 'must be a Vault AWS auth role name' })
      .optional(),
    /** The value of the X-Vault-AWS-IAM-Server-ID header the auth role requires, if it requires one. */
    VAULT_AWS_SERVER_ID: z.string().min(1).optional(),
    /** Only for local runs: a Vault token instead of the AWS login. */
    VAULT_TOKEN: z.string().min(1).optional(),
    VAULT_TOKEN_ROLE: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/, { error: 'must be a Vault token role name' })
      .optional(),
  },
  (env, ctx) => {
    for (const name of ['SLACK_BOT_TOKEN', 'LDAP_BIND_PASSWORD', 'JIRA_API_TOKEN'])
      requireOneOf(env, ctx, name);
    if (env.VAULT_ADDR === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['VAULT_ADDR'],
        message:
          'is not set: the worker mints credentials through Vault, e.g. VAULT_ADDR=https://vault.internal:8200',
      });
    }
    if ((env.VAULT_AWS_ROLE === undefined) === (env.VAULT_TOKEN === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['VAULT_AWS_ROLE'],
        message:
          env.VAULT_TOKEN === undefined
            ? "is not set (nor VAULT_TOKEN): in AWS name the Vault AWS auth role bound to the worker's IAM role; locally give VAULT_TOKEN"
            : 'set either VAULT_AWS_ROLE (in AWS) or VAULT_TOKEN (local runs), not both',
      });
    }
    // Defaults are not applied when another variable is wrong, so read them here as zod would.
    const security = env.LDAP_SECURITY ?? 'ldaps';
    if (security === 'plain' && env.LDAP_ALLOW_PLAIN !== 'true') {
      ctx.addIssue({
        code: 'custom',
        path: ['LDAP_SECURITY'],
        message:
          'plain LDAP sends the service password in clear; use ldaps or starttls, or set LDAP_ALLOW_PLAIN=true for a local directory',
      });
    }
    const scheme = typeof env.LDAP_URL === 'string' ? /^(ldaps?):\/\//.exec(env.LDAP_URL)?.[1] : undefined;
    if (scheme === 'ldap' && security === 'ldaps') {
      ctx.addIssue({
        code: 'custom',
        path: ['LDAP_URL'],
        message:
          'is ldap://, but LDAP_SECURITY is ldaps (the default), which needs ldaps://host:636; use ldaps://, or set LDAP_SECURITY=starttls to upgrade this connection to TLS',
      });
    } else if (scheme === 'ldaps' && security !== 'ldaps') {
      ctx.addIssue({
        code: 'custom',
        path: ['LDAP_URL'],
        message: `is ldaps://, which is TLS from the start, but LDAP_SECURITY is ${security}; use ldap:// with ${security}, or set LDAP_SECURITY=ldaps`,
      });
    }
  },
);

export type WorkerEnv = z.output<typeof workerEnvSchema>;
