import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_COMMAND, grantFailedDm, grantReadyDm } from '../../../shared/adapters/slack/grant-messages.js';
import { approvalRequestMessage } from '../../../shared/adapters/slack/request-messages.js';
import type { GrantFailureReason, GrantRecord } from '../../../shared/domain/access-request.js';
import { explainGrantFailure } from '../../../shared/domain/refusals.js';
import { accessRequest } from '../../fixtures/access-request.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();
const WRAP = 'hvs.CAESIabcdefghijklmnopqrstuvwxyz0123';
const GRANT: GrantRecord = {
  leaseId: 'database/creds/jit-orders-read/abc',
  username: 'alice-Xy3kQ9bT',
  tokenAccessor: 'accessor',
  mintedAt: '2026-11-21T10:05:00.000Z',
  expiresAt: '2026-11-21T11:05:00.000Z',
  origin: 'approval',
};
const granted = accessRequest({ state: 'APPROVED', grant: GRANT });
const delivery = { wrappedToken: WRAP, wrapExpiresAt: '2026-11-21T10:10:00.000Z', fresh: false };

describe('the DM that carries the token', () => {
  const message = grantReadyDm(granted, catalog, delivery);
  const blocks = JSON.stringify(message.blocks);

  it('gives the exact command, with the request id in the token, and how long it works', () => {
    expect(blocks).toContain(`${CLI_COMMAND} connect REQ-0K2M9Q7X:${WRAP}`);
    expect(blocks).toContain('Connect within 5m (the token works once)');
    expect(blocks).toContain('<!date^1795259100^{date_short_pretty} {time}|2026-11-21T11:05:00.000Z>');
    expect(blocks).toContain('VAULT_ADDR=https://vault.example.com:8200');
    expect(blocks).toContain('alice-Xy3kQ9bT');
  });

  it('keeps the token out of the notification text phones show on the lock screen', () => {
    expect(message.text).not.toContain(WRAP);
    expect(message.text).toContain('REQ-0K2M9Q7X');
  });

  const buttonsOf = (dm: typeof message) =>
    (
      dm.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string }[] }
    ).elements.map((e) => [e.action_id, e.value]);

  it('offers a fresh token, more time (the level allows 2h), and handing the access back', () => {
    expect(buttonsOf(message)).toEqual([
      ['grant.reissue', 'REQ-0K2M9Q7X'],
      ['grant.extend', 'REQ-0K2M9Q7X:30'],
      ['grant.revoke', 'REQ-0K2M9Q7X'],
    ]);
  });

  it('offers no more time on a level without maxExtension', () => {
    const admin = accessRequest({
      state: 'APPROVED',
      grant: GRANT,
      database: 'billing-staging',
      level: 'admin',
    });
    expect(buttonsOf(grantReadyDm(admin, catalog, delivery)).map(([id]) => id)).toEqual([
      'grant.reissue',
      'grant.revoke',
    ]);
  });

  it('says so when it replaces a credential', () => {
    const fresh = JSON.stringify(grantReadyDm(granted, catalog, { ...delivery, fresh: true }).blocks);
    expect(fresh).toContain('the previous one is revoked');
  });

  it('names the command requesters install', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(Object.keys(pkg.bin)).toEqual([CLI_COMMAND]);
  });
});

describe('the DM when nothing was granted', () => {
  it.each([
    'requester_not_found',
    'requester_disabled',
    'requester_not_eligible',
    'unknown_level',
    'directory_unavailable',
    'broker_unavailable',
    'broker_rejected',
  ] as GrantFailureReason[])('%s: says why, and how to ask again', (reason) => {
    const message = grantFailedDm(
      accessRequest({ state: 'FAILED', failure: { reason, at: '2026-11-21T10:05:00.000Z' } }),
      catalog,
    );
    expect(message.text).toContain(explainGrantFailure(reason));
    expect(JSON.stringify(message.blocks)).toContain('/request_mysql_access');
  });
});

describe('the approvers message after the approval', () => {
  const approved = {
    approvals: [
      {
        account: 'bob',
        dn: 'CN=Bob,OU=People,DC=example,DC=test',
        channel: 'slack' as const,
        actorId: 'U0BOB0001',
        via: 'CN=db-approvers',
        at: '2026-11-21T10:04:00.000Z',
      },
    ],
    decision: {
      outcome: 'approved' as const,
      channel: 'slack' as const,
      actorId: 'U0BOB0001',
      account: 'bob',
      at: '2026-11-21T10:04:00.000Z',
    },
  };

  it('shows whose user exists until when, and never a token', () => {
    const json = JSON.stringify(
      approvalRequestMessage(accessRequest({ ...approved, state: 'GRANTED', grant: GRANT }), catalog),
    );
    expect(json).toContain('*Approved* by <@U0BOB0001> (bob) in Slack');
    expect(json).toContain('*Granted* until <!date^1795259100');
    expect(json).toContain('`alice-Xy3kQ9bT`');
    expect(json).not.toContain('request.approve');
  });

  it('shows why nothing was granted', () => {
    const json = JSON.stringify(
      approvalRequestMessage(
        accessRequest({
          ...approved,
          state: 'FAILED',
          failure: { reason: 'requester_disabled', at: '2026-11-21T10:05:00.000Z' },
        }),
        catalog,
      ),
    );
    expect(json).toContain(`*Not granted*: ${explainGrantFailure('requester_disabled')}`);
  });
});
