import * as z from 'zod';

/*
 * The shape of a verified Slack body, checked before Bolt sees it. Bolt trusts Slack's shapes and
 * crashes (a 500 naming no cause) on a signed body that breaks them: a buggy client, a Slack
 * change, or someone holding a leaked signing secret. Only what jit-access handles passes: a
 * slash command, Slack's SSL check, and the interactivity payloads its listeners read. Fields are
 * checked for their type, not their content: what they say is the topic contract's business.
 */

export type GateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const id = z.string().min(1).max(255);
// Bolt keeps its per-workspace clients in a plain object keyed by team id: a team id such as
// `valueOf` or `__proto__` finds Object.prototype there and crashes it (a 500). Found by the
// ack property test; team and enterprise ids must have Slack's shape before Bolt sees them.
const SLACK_TEAM_ID = /^[TE][A-Z0-9]{2,}$/;
const teamId = z.string().regex(SLACK_TEAM_ID, { error: 'is not a Slack team id' });
const text = z.string().max(4000);

const user = z.looseObject({
  id,
  name: z.string().max(255).optional(),
  team_id: teamId.optional(),
  username: z.string().max(255).optional(),
});

const action = z.looseObject({
  action_id: id,
  type: id,
  value: text.optional(),
  action_ts: z.string().max(64).optional(),
  selected_option: z.looseObject({ value: text }).nullish(),
});

const view = z.looseObject({
  id,
  hash: z.string().max(255).optional(),
  callback_id: z.string().max(255).optional(),
  private_metadata: z.string().max(3000).optional(),
  state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), z.looseObject({}))) }).optional(),
});

const common = {
  user,
  team: z.looseObject({ id: teamId }).nullish(),
  enterprise: z.looseObject({ id: teamId }).nullish(),
  trigger_id: z.string().max(255).optional(),
  response_url: z.string().max(2000).optional(),
};

const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  ...common,
  actions: z.array(action).min(1, { error: 'must hold at least one action' }).max(25),
  channel: z.looseObject({ id }).nullish(),
  container: z.looseObject({ message_ts: z.string().max(64).optional() }).nullish(),
  message: z.looseObject({}).nullish(),
  view: view.nullish(),
});

const viewSubmission = z.looseObject({
  type: z.literal('view_submission'),
  ...common,
  view: view.extend({ callback_id: z.string().max(255), state: view.shape.state.unwrap() }),
});

const payloadSchema = z.discriminatedUnion('type', [blockActions, viewSubmission], {
  error: 'is not an interaction jit-access handles (block_actions, view_submission)',
});

/** The fields of a slash command, each sent once as a string; `text` may be empty. */
const SLASH_FIELDS = [
  'command',
  'text',
  'user_id',
  'team_id',
  'channel_id',
  'user_name',
  'response_url',
  'trigger_id',
];
// Missing ids are the topic contract's to refuse, with a message to the person; the command name
// and trigger are what Bolt needs to route and answer at all.
const ROUTING_FIELDS = ['command', 'trigger_id'];

/** Checks a verified form body (`application/x-www-form-urlencoded`, as Slack sends all of these). */
export function checkSlackBody(rawBody: string): GateResult {
  const form = new URLSearchParams(rawBody);
  const seen = new Set<string>();
  // One pass: a 64 KB body can hold tens of thousands of keys.
  const repeated = [...form.keys()].find((key) => seen.size === seen.add(key).size);
  if (repeated !== undefined) return refuse(`form field ${fieldName(repeated)} appears more than once`);

  const payload = form.get('payload');
  if (payload !== null) return checkPayload(payload);
  if (form.has('command')) return checkSlashCommand(form);
  if (form.get('ssl_check') === '1') return { ok: true };
  return refuse('neither a slash command nor an interactivity payload');
}

function checkSlashCommand(form: URLSearchParams): GateResult {
  const unroutable = ROUTING_FIELDS.filter((field) => (form.get(field) ?? '') === '');
  if (unroutable.length > 0) return refuse(`slash command without ${unroutable.join(', ')}`);
  // Empty ids are the contract's to refuse with a message; an id of another shape never reaches Bolt.
  const badTeam = ['team_id', 'enterprise_id'].find((field) => {
    const value = form.get(field) ?? '';
    return value !== '' && !SLACK_TEAM_ID.test(value);
  });
  if (badTeam) return refuse(`slash command field ${badTeam} is not a Slack team id`);
  const tooLong = SLASH_FIELDS.find((field) => (form.get(field) ?? '').length > 4000);
  if (tooLong) return refuse(`slash command field ${tooLong} is longer than 4000 characters`);
  return { ok: true };
}

function checkPayload(payload: string): GateResult {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return refuse('payload is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return refuse('payload is not an object');
  const type = (json as { type?: unknown }).type;
  const label = typeof type === 'string' ? `${fieldName(type)} payload` : 'payload';
  const result = payloadSchema.safeParse(json);
  if (result.success) return { ok: true };
  const [issue] = result.error.issues;
  const path = issue?.path.join('.') ?? '';
  return refuse(`${label}: ${path ? `${path} ` : ''}${issue?.message ?? 'is malformed'}`);
}

/** A name from the body, made safe to log: short, and only the characters a field name has. */
function fieldName(name: string): string {
  const safe = name.slice(0, 40).replace(/[^A-Za-z0-9_.-]/g, '?');
  return name.length > 40 ? `${safe}…` : safe;
}

function refuse(reason: string): GateResult {
  return { ok: false, reason };
}
