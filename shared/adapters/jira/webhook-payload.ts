import * as z from 'zod';
import type { TicketStatusChange } from '../../ports/ticket-tracker.js';

export type ParsedJiraWebhook =
  | { readonly ok: true; readonly change: TicketStatusChange }
  | { readonly ok: false; readonly why: 'not_json' | 'not_an_issue_update' | 'no_status_change' };

/**
 * Only what the decision needs is read from the body; everything else Jira sends (custom fields,
 * rendered HTML, whatever apps add) is let through unread, so a site's extra fields never break it.
 */
// Changelog items are read by own property only: `toString` missing from an item would
// otherwise be Object.prototype.toString, and a schema on it would refuse the whole delivery.
const changeItem = z.record(z.string(), z.unknown());
const issueUpdated = z.looseObject({
  webhookEvent: z.literal('jira:issue_updated'),
  user: z.looseObject({ accountId: z.string().min(1).max(128) }),
  issue: z.looseObject({ id: z.string().regex(/^\d{1,18}$/), key: z.string().max(255) }),
  changelog: z.looseObject({ id: z.string().max(64).optional(), items: z.array(changeItem).max(200) }),
});

/**
 * A verified webhook body → the status change it reports, or why it reports none. The delivery
 * key is Jira's X-Atlassian-Webhook-Identifier, or (an Automation request has none) the issue's
 * changelog entry.
 */
export function parseJiraStatusChange(rawBody: string, identifier: string | undefined): ParsedJiraWebhook {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, why: 'not_json' };
  }
  const parsed = issueUpdated.safeParse(json);
  if (!parsed.success) return { ok: false, why: 'not_an_issue_update' };
  const event = parsed.data;
  const item = event.changelog.items.find(
    (candidate) =>
      own(candidate, 'fieldId') === 'status' ||
      (own(candidate, 'field') === 'status' && own(candidate, 'fieldtype') === 'jira'),
  );
  const fromStatus = item && own(item, 'fromString');
  const toStatus = item && own(item, 'toString');
  if (!fromStatus || !toStatus) return { ok: false, why: 'no_status_change' };
  return {
    ok: true,
    change: {
      issueId: event.issue.id,
      accountId: event.user.accountId,
      fromStatus,
      toStatus,
      deliveryKey: identifier ?? `${event.issue.id}:${event.changelog.id ?? rawBody}`,
    },
  };
}

/** A string the item itself holds under `key`; never an inherited property. */
function own(item: Record<string, unknown>, key: string): string | undefined {
  const value = Object.hasOwn(item, key) ? item[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}
