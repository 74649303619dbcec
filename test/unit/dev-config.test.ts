import { describe, expect, it } from 'vitest';
import { parseDevConfig } from '../../local/dev/dev-config.js';
import { ConfigError } from '../../shared/config/env.js';

const SLACK = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: '0123456789abcdef0123' };
const JIRA = {
  JIRA_BASE_URL: 'https://acme.atlassian.net',
  JIRA_EMAIL: 'jit@acme.example',
  JIRA_API_TOKEN: 'ATATT-token',
  JIRA_WEBHOOK_SECRET: 'webhook-secret',
};
const VAULT = { VAULT_ADDR: 'https://vault.acme.example:8200', VAULT_TOKEN: 'hvs.token' };
const LDAP = {
  LDAP_URL: 'ldaps://dc1.acme.example',
  LDAP_BIND_DN: 'CN=jit,OU=Service,DC=acme,DC=example',
  LDAP_BIND_PASSWORD: 'bind-password',
  LDAP_BASE_DN: 'DC=acme,DC=example',
};

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseDevConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

describe('npm run dev settings', () => {
  it('emulates everything when nothing is set, on port 3000, reconciling every minute', () => {
    expect(parseDevConfig({})).toEqual({
      port: 3000,
      reconcileEveryMs: 60_000,
      catalogPath: undefined,
      connect: {},
      real: { slack: false, jira: false, vault: false, ldap: false },
    });
  });

  it('connects each connector whose variables are all set', () => {
    const config = parseDevConfig({
      ...SLACK,
      ...JIRA,
      ...VAULT,
      ...LDAP,
      JIT_ACCESS_CONFIG: 'mine.yaml',
      PORT: '0',
    });
    expect(config.real).toEqual({ slack: true, jira: true, vault: true, ldap: true });
    expect(config.connect.slack).toEqual({
      botToken: SLACK.SLACK_BOT_TOKEN,
      signingSecret: SLACK.SLACK_SIGNING_SECRET,
    });
    expect(config.connect.ldap).toEqual(LDAP);
    expect(config).toMatchObject({ port: 0, catalogPath: 'mine.yaml' });
  });

  it('takes a real Slack and Jira with the emulated directory and Vault', () => {
    expect(parseDevConfig({ ...SLACK, ...JIRA }).real).toEqual({
      slack: true,
      jira: true,
      vault: false,
      ldap: false,
    });
  });

  it.each([
    [
      'a half-set Slack',
      { SLACK_BOT_TOKEN: SLACK.SLACK_BOT_TOKEN },
      'SLACK_SIGNING_SECRET: is not set, but SLACK_BOT_TOKEN is: a real slack needs SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or unset them all to use the emulator)',
    ],
    [
      'a Jira without its webhook secret',
      { ...JIRA, JIRA_WEBHOOK_SECRET: undefined },
      'JIRA_WEBHOOK_SECRET: is not set, but',
    ],
    [
      'a real directory without Vault',
      { ...LDAP, JIT_ACCESS_CONFIG: 'mine.yaml' },
      'VAULT_ADDR: is not set, but the directory is real',
    ],
    [
      'a real Vault without a directory',
      { ...VAULT, JIT_ACCESS_CONFIG: 'mine.yaml' },
      'LDAP_URL: is not set, but Vault is real',
    ],
    [
      'a real directory and Vault without a catalog',
      { ...LDAP, ...VAULT },
      'JIT_ACCESS_CONFIG: is not set: with a real directory and Vault',
    ],
    [
      'a catalog of ones own with the emulated world',
      { JIT_ACCESS_CONFIG: 'mine.yaml' },
      'JIT_ACCESS_CONFIG: is set, but the directory and Vault are emulated',
    ],
    [
      'a user token for the bot',
      { ...SLACK, SLACK_BOT_TOKEN: 'xoxp-user' },
      'SLACK_BOT_TOKEN: must be a bot token (xoxb-…)',
    ],
    ['a port out of range', { PORT: '70000' }, 'PORT: must be a TCP port (0 picks a free one)'],
    [
      'an LDAP URL of another scheme',
      { ...LDAP, ...VAULT, JIT_ACCESS_CONFIG: 'c.yaml', LDAP_URL: 'http://dc1' },
      'LDAP_URL: must be ldap://… or ldaps://…',
    ],
  ])('refuses %s, naming the variable', (_name, env, expected) => {
    expect(problems(env as NodeJS.ProcessEnv).join('\n')).toContain(expected);
  });

  it('never repeats a secret in its messages', () => {
    const text = problems({
      SLACK_SIGNING_SECRET: 'super-secret-signing-value',
      JIRA_API_TOKEN: 'ATATT-very-secret',
    }).join('\n');
    expect(text).not.toContain('super-secret-signing-value');
    expect(text).not.toContain('ATATT-very-secret');
  });
});
