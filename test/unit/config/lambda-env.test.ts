import { describe, expect, it } from 'vitest';
import { ackEnvSchema } from '../../../lambdas/ack/config.js';
import { jiraWebhookEnvSchema } from '../../../lambdas/jira-webhook/config.js';
import { workerEnvSchema } from '../../../lambdas/worker/config.js';
import { ConfigError, parseEnv } from '../../../shared/config/env.js';
import { LAMBDA_TEST_ENV } from '../../fixtures/lambda-env.js';

function problems(schema: Parameters<typeof parseEnv>[1], env: Record<string, string | undefined>): string[] {
  try {
    parseEnv('a Lambda', schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('every Lambda names every configuration problem in one go', () => {
  it('ack: the topic and both secrets missing, all three at once', () => {
    expect(problems(ackEnvSchema, {}).sort()).toEqual([
      'ACCESS_TOPIC_ARN: is not set',
      'SLACK_BOT_TOKEN: is not set (nor SLACK_BOT_TOKEN_ARN)',
      'SLACK_SIGNING_SECRET: is not set (nor SLACK_SIGNING_SECRET_ARN)',
    ]);
  });

  it('jira-webhook: a bad topic, and neither a secret nor an API token', () => {
    const env: Record<string, string | undefined> = {
      ...LAMBDA_TEST_ENV['jira-webhook'],
      ACCESS_TOPIC_ARN: 'topic',
    };
    delete env.JIRA_WEBHOOK_SECRET;
    delete env.JIRA_API_TOKEN;
    expect(problems(jiraWebhookEnvSchema, env)).toEqual(
      expect.arrayContaining([
        'ACCESS_TOPIC_ARN: must be an SNS topic ARN',
        'JIRA_API_TOKEN: is not set (nor JIRA_API_TOKEN_ARN)',
        expect.stringMatching(/^JIRA_WEBHOOK_SECRET: is not set: set JIRA_WEBHOOK_SECRET/),
      ]),
    );
  });

  it('worker: a missing table and a missing bind password together', () => {
    const env = { ...LAMBDA_TEST_ENV.worker, REQUESTS_TABLE: undefined, LDAP_BIND_PASSWORD: undefined };
    expect(problems(workerEnvSchema, env).sort()).toEqual([
      'LDAP_BIND_PASSWORD: is not set (nor LDAP_BIND_PASSWORD_ARN)',
      'REQUESTS_TABLE: is not set',
    ]);
  });
});

describe('the worker names how it reaches Vault', () => {
  const worker = LAMBDA_TEST_ENV.worker!;
  it.each([
    [
      { VAULT_ADDR: undefined },
      [
        'VAULT_ADDR: is not set: the worker mints credentials through Vault, e.g. VAULT_ADDR=https://vault.internal:8200',
      ],
    ],
    [
      { VAULT_ADDR: 'vault:8200' },
      ['VAULT_ADDR: must be the URL of Vault, e.g. https://vault.internal:8200'],
    ],
    [
      { VAULT_AWS_ROLE: undefined },
      [expect.stringMatching(/^VAULT_AWS_ROLE: is not set \(nor VAULT_TOKEN\)/)],
    ],
    [
      { VAULT_TOKEN: 'hvs.local' },
      ['VAULT_AWS_ROLE: set either VAULT_AWS_ROLE (in AWS) or VAULT_TOKEN (local runs), not both'],
    ],
    [{ VAULT_AWS_ROLE: undefined, VAULT_TOKEN: 'hvs.local' }, []],
  ])('%o', (overrides, expected) => {
    expect(problems(workerEnvSchema, { ...worker, ...overrides })).toEqual(expected);
  });
});

describe('the worker refuses an LDAP URL its security setting cannot use', () => {
  const worker = LAMBDA_TEST_ENV.worker!;
  it.each([
    [
      { LDAP_URL: 'ldap://dc.example.test:389' },
      'LDAP_URL: is ldap://, but LDAP_SECURITY is ldaps (the default)',
    ],
    [
      { LDAP_URL: 'ldap://dc.example.test:389', LDAP_SECURITY: 'ldaps' },
      'LDAP_URL: is ldap://, but LDAP_SECURITY is ldaps',
    ],
    [
      { LDAP_URL: 'ldaps://dc.example.test:636', LDAP_SECURITY: 'starttls' },
      'LDAP_URL: is ldaps://, which is TLS from the start, but LDAP_SECURITY is starttls',
    ],
  ])('%j', (overrides, problem) => {
    expect(problems(workerEnvSchema, { ...worker, ...overrides })).toEqual([
      expect.stringContaining(problem),
    ]);
  });

  it.each([
    { LDAP_URL: 'ldaps://dc.example.test:636' },
    { LDAP_URL: 'ldap://dc.example.test:389', LDAP_SECURITY: 'starttls' },
    { LDAP_URL: 'ldap://127.0.0.1:389', LDAP_SECURITY: 'plain', LDAP_ALLOW_PLAIN: 'true' },
  ])('accepts %j', (overrides) => {
    expect(problems(workerEnvSchema, { ...worker, ...overrides })).toEqual([]);
  });
});
