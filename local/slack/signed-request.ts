import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * Builds the HTTP requests Slack sends to an app (slash commands and interactivity), signed the
 * way Slack signs them, as the Lambda Function URL / HTTP API v2 events the ack Lambda receives.
 * For tests, benchmarks and a local dev server; nothing here talks to the network.
 */

/** Slack sends exactly this (no charset); Bolt's Lambda receiver compares it verbatim. */
export const SLACK_FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const SLACK_USER_AGENT = 'Slackbot 1.0 (+https://api.slack.com/robots)';
export const DEFAULT_COMMAND = '/request_mysql_access';

const DEFAULTS = {
  teamDomain: 'jit-access-test',
  apiAppId: 'A0JITACCESS',
  botId: 'B0JITBOT001',
  /** The deprecated verification token Slack still puts in every payload. */
  verificationToken: 'xTSgv8iTD4pJ3Bv6dZ0dS3Hn',
};

export type FormFields = Record<string, string> | ReadonlyArray<readonly [string, string]>;

export interface SlackRequest<TPayload> {
  kind: 'slash_command' | 'view_submission' | 'block_actions';
  contentType: typeof SLACK_FORM_CONTENT_TYPE;
  /** The exact bytes Slack signs and sends. */
  body: string;
  /** The decoded command fields or interactivity payload, for assertions. */
  payload: TPayload;
}

// ---- slash commands ---------------------------------------------------------------------

export interface SlashCommandInput {
  text: string;
  userId: string;
  userName?: string;
  teamId: string;
  teamDomain?: string;
  channelId: string;
  channelName?: string;
  command?: string;
  triggerId?: string;
  responseUrl?: string;
  apiAppId?: string;
  verificationToken?: string;
  enterprise?: { id: string; name: string };
}

/** The fields of a slash command, in the order Slack sends them. */
export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  enterprise_id?: string;
  enterprise_name?: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  is_enterprise_install: 'true' | 'false';
  response_url: string;
  trigger_id: string;
}

export function slashCommand(input: SlashCommandInput): SlackRequest<SlashCommandFields> {
  const fields: SlashCommandFields = {
    token: input.verificationToken ?? DEFAULTS.verificationToken,
    team_id: input.teamId,
    team_domain: input.teamDomain ?? DEFAULTS.teamDomain,
    ...(input.enterprise
      ? { enterprise_id: input.enterprise.id, enterprise_name: input.enterprise.name }
      : {}),
    channel_id: input.channelId,
    channel_name: input.channelName ?? defaultChannelName(input.channelId),
    user_id: input.userId,
    user_name: input.userName ?? defaultUserName(input.userId),
    command: input.command ?? DEFAULT_COMMAND,
    text: input.text,
    api_app_id: input.apiAppId ?? DEFAULTS.apiAppId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl ?? fakeResponseUrl('commands', input.teamId),
    trigger_id: input.triggerId ?? fakeTriggerId(),
  };
  return {
    kind: 'slash_command',
    contentType: SLACK_FORM_CONTENT_TYPE,
    body: encodeForm(
      Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    payload: fields,
  };
}

// ---- interactivity ----------------------------------------------------------------------

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

/** A value in `view.state.values[blockId][actionId]`, e.g. `{ type: 'plain_text_input', value: 'x' }`. */
export interface ViewStateValue {
  type: string;
  value?: string | null;
  selected_option?: { text: PlainText; value: string } | null;
  selected_options?: Array<{ text: PlainText; value: string }>;
  selected_user?: string | null;
  selected_date?: string | null;
  selected_conversation?: string | null;
  selected_channel?: string | null;
}

export type ViewStateValues = Record<string, Record<string, ViewStateValue>>;

export interface InteractionUser {
  id: string;
  username: string;
  name: string;
  team_id: string;
}

export interface InteractionTeam {
  id: string;
  domain: string;
}

/** A view as Slack sends it back in interactions (the shape views.open returns). */
export interface SubmittedView {
  id: string;
  team_id: string;
  type: string;
  blocks: unknown[];
  private_metadata: string;
  callback_id: string;
  state: { values: ViewStateValues };
  hash: string;
  title: PlainText;
  clear_on_close: boolean;
  notify_on_close: boolean;
  close: PlainText | null;
  submit: PlainText | null;
  previous_view_id: string | null;
  root_view_id: string | null;
  app_id: string;
  external_id: string;
  app_installed_team_id: string;
  bot_id: string;
}

export interface ViewSubmissionPayload {
  type: 'view_submission';
  team: InteractionTeam;
  user: InteractionUser;
  api_app_id: string;
  token: string;
  trigger_id: string;
  view: SubmittedView;
  response_urls: Array<{ block_id: string; action_id: string; channel_id: string; response_url: string }>;
  is_enterprise_install: boolean;
  enterprise: null | { id: string; name: string };
}

export interface ViewSubmissionInput {
  /** Anything not given is filled the way Slack fills it; pass `state.values` for the inputs. */
  view: Partial<Omit<SubmittedView, 'state'>> & { state?: { values: ViewStateValues } };
  userId: string;
  userName?: string;
  teamId: string;
  teamDomain?: string;
  triggerId?: string;
  apiAppId?: string;
  verificationToken?: string;
  responseUrls?: ViewSubmissionPayload['response_urls'];
}

export function viewSubmission(input: ViewSubmissionInput): SlackRequest<ViewSubmissionPayload> {
  const apiAppId = input.apiAppId ?? DEFAULTS.apiAppId;
  const id = input.view.id ?? fakeId('V');
  const view: SubmittedView = {
    id,
    team_id: input.teamId,
    type: 'modal',
    blocks: [],
    private_metadata: '',
    callback_id: '',
    hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
    title: { type: 'plain_text', text: 'Request access', emoji: true },
    clear_on_close: false,
    notify_on_close: false,
    close: null,
    submit: { type: 'plain_text', text: 'Submit', emoji: true },
    previous_view_id: null,
    root_view_id: id,
    app_id: apiAppId,
    external_id: '',
    app_installed_team_id: input.teamId,
    bot_id: DEFAULTS.botId,
    ...input.view,
    state: input.view.state ?? { values: {} },
  };
  const payload: ViewSubmissionPayload = {
    type: 'view_submission',
    team: { id: input.teamId, domain: input.teamDomain ?? DEFAULTS.teamDomain },
    user: interactionUser(input.userId, input.userName, input.teamId),
    api_app_id: apiAppId,
    token: input.verificationToken ?? DEFAULTS.verificationToken,
    trigger_id: input.triggerId ?? fakeTriggerId(),
    view,
    response_urls: input.responseUrls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return interactivity('view_submission', payload);
}

/** A clicked element, e.g. `{ action_id: 'approve', value: 'REQ-…' }`; the rest is filled in. */
export interface ActionInput {
  action_id: string;
  block_id?: string;
  type?: string;
  value?: string;
  text?: PlainText;
  action_ts?: string;
  [key: string]: unknown;
}

export interface BlockActionItem {
  action_id: string;
  block_id: string;
  type: string;
  action_ts: string;
  value?: string;
  text?: PlainText;
  [key: string]: unknown;
}

export interface InteractionMessage {
  type: 'message';
  ts: string;
  text?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  team?: string;
  blocks?: unknown[];
  [key: string]: unknown;
}

export interface BlockActionsPayload {
  type: 'block_actions';
  user: InteractionUser;
  api_app_id: string;
  token: string;
  container:
    | { type: 'message'; message_ts: string; channel_id: string; is_ephemeral: boolean }
    | { type: 'view'; view_id: string };
  trigger_id: string;
  team: InteractionTeam;
  enterprise: null | { id: string; name: string };
  is_enterprise_install: boolean;
  channel?: { id: string; name: string };
  message?: InteractionMessage;
  view?: SubmittedView;
  state: { values: ViewStateValues };
  response_url?: string;
  actions: BlockActionItem[];
}

export interface BlockActionsInput {
  actions: ActionInput[];
  userId: string;
  userName?: string;
  teamId: string;
  teamDomain?: string;
  /** Where the clicked message is; give `message` too, as Slack always does for message actions. */
  channel?: { id: string; name?: string };
  message?: Partial<InteractionMessage> & { ts: string };
  /** For actions inside a modal instead of a message. */
  view?: SubmittedView;
  isEphemeral?: boolean;
  state?: ViewStateValues;
  responseUrl?: string;
  triggerId?: string;
  apiAppId?: string;
  verificationToken?: string;
}

export function blockActions(input: BlockActionsInput): SlackRequest<BlockActionsPayload> {
  const apiAppId = input.apiAppId ?? DEFAULTS.apiAppId;
  const actionTs = slackTs();
  const channel = input.channel
    ? { id: input.channel.id, name: input.channel.name ?? defaultChannelName(input.channel.id) }
    : undefined;
  const message: InteractionMessage | undefined = input.message
    ? {
        type: 'message',
        bot_id: DEFAULTS.botId,
        app_id: apiAppId,
        team: input.teamId,
        text: '',
        ...input.message,
      }
    : undefined;
  let container: BlockActionsPayload['container'];
  if (input.view) {
    container = { type: 'view', view_id: input.view.id };
  } else if (channel && message) {
    container = {
      type: 'message',
      message_ts: message.ts,
      channel_id: channel.id,
      is_ephemeral: input.isEphemeral ?? false,
    };
  } else {
    throw new Error('blockActions needs either a view, or a channel and the message that was clicked');
  }
  const actions = input.actions.map<BlockActionItem>((action) => ({
    ...action,
    type: action.type ?? 'button',
    block_id: action.block_id ?? randomBytes(3).toString('base64url'),
    action_id: action.action_id,
    ...(action.type === undefined || action.type === 'button'
      ? { text: action.text ?? { type: 'plain_text', text: action.action_id, emoji: true } }
      : {}),
    action_ts: action.action_ts ?? actionTs,
  }));
  const payload: BlockActionsPayload = {
    type: 'block_actions',
    user: interactionUser(input.userId, input.userName, input.teamId),
    api_app_id: apiAppId,
    token: input.verificationToken ?? DEFAULTS.verificationToken,
    container,
    trigger_id: input.triggerId ?? fakeTriggerId(),
    team: { id: input.teamId, domain: input.teamDomain ?? DEFAULTS.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    ...(channel ? { channel } : {}),
    ...(message ? { message } : {}),
    ...(input.view ? { view: input.view } : {}),
    state: { values: input.state ?? {} },
    // Slack gives a response_url for message actions, not for actions inside a modal.
    ...(input.view ? {} : { response_url: input.responseUrl ?? fakeResponseUrl('actions', input.teamId) }),
    actions,
  };
  return interactivity('block_actions', payload);
}

// ---- signing and Lambda events ------------------------------------------------------------

export interface SigningOptions {
  signingSecret: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, Slack's signing scheme. */
export function computeSlackSignature(body: string, options: SigningOptions): string {
  const digest = createHmac('sha256', options.signingSecret)
    .update(`v0:${options.timestamp}:${body}`, 'utf8')
    .digest('hex');
  return `v0=${digest}`;
}

export function signRequest(body: string, options: SigningOptions): SlackSignatureHeaders {
  return {
    'x-slack-signature': computeSlackSignature(body, options),
    'x-slack-request-timestamp': String(options.timestamp),
  };
}

export interface LambdaEventOptions {
  signingSecret: string;
  /** Unix seconds to sign with and send; default now. Slack receivers refuse anything over 5 minutes old. */
  timestamp?: number;
  /** Base64-encode the body as Lambda Function URLs do for form posts. */
  base64?: boolean;
  /** Changes the body after signing, to prove the signature check catches it. */
  tamper?: string | ((body: string) => string);
  /** Signs with this secret instead of `signingSecret` (a forged or mis-configured sender). */
  wrongSecret?: string;
  /** Leaves out both signature headers. */
  unsigned?: boolean;
  rawPath?: string;
  /** Extra or replacement headers (names are lower-cased). */
  headers?: Record<string, string>;
  sourceIp?: string;
  /** Function URL host; the event's domainName. */
  domainName?: string;
}

/** The event a Lambda behind a Function URL (or HTTP API, payload v2) gets for a Slack request. */
export function toLambdaEvent(
  request: Pick<SlackRequest<unknown>, 'body' | 'contentType'>,
  options: LambdaEventOptions,
): APIGatewayProxyEventV2 {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = signRequest(request.body, {
    signingSecret: options.wrongSecret ?? options.signingSecret,
    timestamp,
  });
  const sent =
    options.tamper === undefined
      ? request.body
      : typeof options.tamper === 'string'
        ? options.tamper
        : options.tamper(request.body);
  const domainName = options.domainName ?? 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws';
  const domainPrefix = domainName.split('.')[0] ?? domainName;
  const rawPath = options.rawPath ?? '/slack/events';
  const sourceIp = options.sourceIp ?? '3.93.10.105';
  const received = new Date(timestamp * 1000);
  const headers: Record<string, string> = {
    'content-length': String(Buffer.byteLength(sent, 'utf8')),
    'x-amzn-tls-version': 'TLSv1.3',
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '443',
    'x-forwarded-for': sourceIp,
    accept: 'application/json,*/*',
    'x-amzn-tls-cipher-suite': 'TLS_AES_128_GCM_SHA256',
    'x-amzn-trace-id': `Root=1-${Math.floor(received.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    host: domainName,
    'content-type': request.contentType,
    'accept-encoding': 'gzip,deflate',
    'user-agent': SLACK_USER_AGENT,
    ...(options.unsigned ? {} : signature),
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: domainPrefix,
      domainName,
      domainPrefix,
      http: {
        method: 'POST',
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp,
        userAgent: SLACK_USER_AGENT,
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: apiGatewayTime(received),
      timeEpoch: received.getTime(),
    },
    body: options.base64 ? Buffer.from(sent, 'utf8').toString('base64') : sent,
    isBase64Encoded: options.base64 ?? false,
  };
}

/**
 * application/x-www-form-urlencoded as Slack writes it: spaces as `+`, everything outside
 * `A-Za-z0-9*-._` percent-encoded (what URLSearchParams does).
 */
export function encodeForm(fields: FormFields): string {
  const entries: Array<[string, string]> = isEntryList(fields)
    ? fields.map(([name, value]) => [name, value])
    : Object.entries(fields);
  return new URLSearchParams(entries).toString();
}

function isEntryList(fields: FormFields): fields is ReadonlyArray<readonly [string, string]> {
  return Array.isArray(fields);
}

// ---- helpers ------------------------------------------------------------------------------

function interactivity<TPayload>(
  kind: 'view_submission' | 'block_actions',
  payload: TPayload,
): SlackRequest<TPayload> {
  return {
    kind,
    contentType: SLACK_FORM_CONTENT_TYPE,
    body: encodeForm([['payload', JSON.stringify(payload)]]),
    payload,
  };
}

function interactionUser(userId: string, userName: string | undefined, teamId: string): InteractionUser {
  const name = userName ?? defaultUserName(userId);
  return { id: userId, username: name, name, team_id: teamId };
}

/** Slack's channel_name for conversations without a public name. */
function defaultChannelName(channelId: string): string {
  if (channelId.startsWith('D')) return 'directmessage';
  if (channelId.startsWith('G')) return 'privategroup';
  return 'general';
}

function defaultUserName(userId: string): string {
  return `user.${userId.toLowerCase()}`;
}

function fakeTriggerId(): string {
  return `${randomInt(1e9, 1e10)}.${randomInt(1e10, 1e11)}.${randomBytes(16).toString('hex')}`;
}

function fakeResponseUrl(kind: 'commands' | 'actions', teamId: string): string {
  return `https://hooks.slack.com/${kind}/${teamId}/${randomInt(1e11, 1e12)}/${randomBytes(12).toString('base64url')}`;
}

function fakeId(prefix: string): string {
  return `${prefix}0${randomBytes(6).toString('hex').toUpperCase().slice(0, 9)}`;
}

function slackTs(): string {
  const micros = Date.now() * 1000 + randomInt(1000);
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's requestContext.time format: `12/Mar/2020:19:03:58 +0000`. */
function apiGatewayTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
