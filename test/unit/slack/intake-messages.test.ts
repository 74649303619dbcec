import { describe, expect, it } from 'vitest';
import {
  helpReply,
  invalidRequestReply,
  notQueuedReply,
  submittedReply,
} from '../../../shared/adapters/slack/intake-messages.js';
import { escapeMrkdwn } from '../../../shared/adapters/slack/mrkdwn.js';
import { durationChoices, modalErrors, requestModal } from '../../../shared/adapters/slack/request-modal.js';
import type { RequestId } from '../../../shared/domain/request-id.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();

describe('escapeMrkdwn', () => {
  it.each([
    ['<!channel> please look', '&lt;!channel&gt; please look'],
    ['<@U0ADMIN> approve me', '&lt;@U0ADMIN&gt; approve me'],
    ['<https://evil.example|jira ticket>', '&lt;https://evil.example|jira ticket&gt;'],
    ['a &amp; b', 'a &amp;amp; b'],
    ['plain text', 'plain text'],
  ])('%j → %j', (text, escaped) => {
    expect(escapeMrkdwn(text)).toBe(escaped);
  });
});

describe('slash command replies', () => {
  it('are ephemeral, so nobody else sees the request or its errors', () => {
    for (const reply of [helpReply(catalog), notQueuedReply(), invalidRequestReply(['x'], catalog)]) {
      expect(reply.response_type).toBe('ephemeral');
    }
  });

  it('help lists every database and level with its maximum', () => {
    const { text } = helpReply(catalog);
    expect(text).toContain('`/request_mysql_access <database> <level> <duration> <justification>`');
    expect(text).toContain('• `orders` (prod): `read` (up to 4h), `write` (up to 2h, 2 approvals)');
    expect(text).toContain('• `billing-staging` (staging): `read` (up to 1d), `admin` (up to 8h)');
    expect(text).toContain('cancel <request id>');
  });

  it('echoes user text only escaped', () => {
    const { text } = invalidRequestReply(['unknown database "<!channel>"'], catalog);
    expect(text).toContain('unknown database "&lt;!channel&gt;"');
    expect(text).not.toContain('<!channel>');
  });

  it('says what happens next after a request is queued', () => {
    const { text } = submittedReply(
      'REQ-0K2M9Q7X' as RequestId,
      { database: 'orders', level: 'write', duration: { minutes: 90 }, justification: 'x' },
      catalog,
    );
    expect(text).toContain('Request *REQ-0K2M9Q7X* received: `orders` (prod) / `write` for 90m.');
    expect(text).toContain('Once 2 approvers approve');
    expect(text).toContain('`/request_mysql_access cancel REQ-0K2M9Q7X`');
  });

  it('never claims success when nothing was queued', () => {
    const { text } = notQueuedReply();
    expect(text).toMatch(/Nothing was queued/);
    expect(text).toMatch(/not\* received/);
    expect(text).not.toMatch(/REQ-/);
  });
});

describe('the request modal', () => {
  it('offers, under each database, only the levels the catalog defines for it', () => {
    const view = requestModal(catalog, { channelId: 'C0GENERAL' });
    const target = view.blocks[0] as unknown as {
      element: { option_groups: { label: { text: string }; options: { value: string }[] }[] };
    };
    expect(target.element.option_groups.map((g) => [g.label.text, g.options.map((o) => o.value)])).toEqual([
      ['orders (prod)', ['orders/read', 'orders/write']],
      ['billing-staging (staging)', ['billing-staging/read', 'billing-staging/admin']],
    ]);
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ channelId: 'C0GENERAL' });
  });

  it('narrows durations to the chosen level, with its default selected', () => {
    const view = requestModal(catalog, { channelId: 'C0GENERAL' }, { database: 'orders', level: 'write' });
    const duration = view.blocks[1] as unknown as {
      block_id: string;
      element: { options: { value: string }[]; initial_option: { value: string } };
    };
    expect(duration.element.options.map((o) => o.value)).toEqual(['15m', '30m', '1h', '2h']);
    expect(duration.element.initial_option.value).toBe('30m');
    expect(duration.block_id).toBe('duration:orders/write');
  });

  it.each([
    [{ minutes: 240 }, undefined, ['15m', '30m', '1h', '2h', '4h']],
    [{ minutes: 90 }, undefined, ['15m', '30m', '1h', '90m']],
    [{ minutes: 1440 }, { minutes: 45 }, ['15m', '30m', '45m', '1h', '2h', '4h', '8h', '12h', '1d']],
  ])('duration choices up to %j (default %j)', (max, preferred, expected) => {
    expect(
      durationChoices(max, preferred).map((d) =>
        d.minutes % 1440 === 0
          ? `${d.minutes / 1440}d`
          : d.minutes % 60 === 0
            ? `${d.minutes / 60}h`
            : `${d.minutes}m`,
      ),
    ).toEqual(expected);
  });

  it('maps field problems to the blocks they belong to', () => {
    expect(modalErrors({ duration: 'too long', justification: 'too short' }, 'duration:orders/read')).toEqual(
      {
        'duration:orders/read': 'too long',
        justification: 'too short',
      },
    );
  });
});
