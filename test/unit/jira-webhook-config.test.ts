import { describe, expect, it } from 'vitest';
import { jiraWebhookEnvSchema } from '../../lambdas/jira-webhook/config.js';
import { createJiraWebhookHandler } from '../../lambdas/jira-webhook/wiring.js';
import { ConfigError, parseEnv } from '../../shared/config/env.js';
import { LAMBDA_TEST_ENV } from '../fixtures/lambda-env.js';

const valid = LAMBDA_TEST_ENV['jira-webhook']!;
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jit/jira-AbCdEf';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv('the jira-webhook Lambda', jiraWebhookEnvSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('the jira-webhook Lambda environment', () => {
  it.each([
    ['the test environment', valid],
    ['the secret as an ARN', { ...valid, JIRA_WEBHOOK_SECRET: undefined, JIRA_WEBHOOK_SECRET_ARN: ARN }],
    [
      'only the Automation token',
      {
        ...valid,
        JIRA_WEBHOOK_SECRET: undefined,
        JIRA_WEBHOOK_TOKEN: 'automation-token-0123456789abcdef0123',
      },
    ],
  ])('accepts %s', (_what, env) => {
    expect(problems(env)).toEqual([]);
  });

  it.each([
    [
      'neither a secret nor a token',
      { ...valid, JIRA_WEBHOOK_SECRET: undefined },
      'JIRA_WEBHOOK_SECRET: is not set: set JIRA_WEBHOOK_SECRET (or _ARN)',
    ],
    [
      'a short secret',
      { ...valid, JIRA_WEBHOOK_SECRET: 'secret' },
      'JIRA_WEBHOOK_SECRET: must be at least 16 characters',
    ],
    [
      'a secret and its ARN',
      { ...valid, JIRA_WEBHOOK_SECRET_ARN: ARN },
      'JIRA_WEBHOOK_SECRET: and JIRA_WEBHOOK_SECRET_ARN are both set; keep one',
    ],
    ['no topic', { ...valid, ACCESS_TOPIC_ARN: undefined }, 'ACCESS_TOPIC_ARN: is not set'],
    [
      'no Jira token',
      { ...valid, JIRA_API_TOKEN: undefined },
      'JIRA_API_TOKEN: is not set (nor JIRA_API_TOKEN_ARN)',
    ],
  ])('refuses %s, naming the variable', (_what, env, problem) => {
    expect(problems(env).join('\n')).toContain(problem);
  });

  it('fails at cold start, before any webhook arrives', () => {
    expect(() => createJiraWebhookHandler({ ...valid, JIRA_WEBHOOK_SECRET: undefined })).toThrow(ConfigError);
  });
});

describe('docs/decisions.md and the webhook secret rule', () => {
  it('states the one minimum length the Lambda enforces, everywhere it states one', async () => {
    const { readFileSync } = await import('node:fs');
    const docs = readFileSync(new URL('../../docs/decisions.md', import.meta.url), 'utf8');
    const secretLines = docs.split('\n').filter((line) => /secret/i.test(line) && !/TOKEN/.test(line));
    const stated = new Set(
      secretLines.flatMap((line) =>
        [...line.matchAll(/at least (\d+) characters/g)].map((m) => Number(m[1])),
      ),
    );
    expect([...stated]).toEqual([16]);
    const env = (secret: string) => ({ ...LAMBDA_TEST_ENV['jira-webhook'], JIRA_WEBHOOK_SECRET: secret });
    expect(jiraWebhookEnvSchema.safeParse(env('x'.repeat(15))).success).toBe(false);
    expect(jiraWebhookEnvSchema.safeParse(env('x'.repeat(16))).success).toBe(true);
  });
});
