import { createHash, randomBytes, randomInt } from 'node:crypto';
import { type LoopbackServer, lowerCaseHeaders, readBody, startLoopbackServer } from '../loopback-server.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../shared/ports/clock.js';

/**
 * The Slack Web API methods jit-access calls. Anything else answers `unknown_method`, so a new
 * call in the product fails loudly in tests instead of silently "working" against the emulator.
 */
export const EMULATED_SLACK_METHODS = [
  'auth.test',
  'chat.postEphemeral',
  'chat.postMessage',
  'chat.update',
  'conversations.open',
  'users.info',
  'users.lookupByEmail',
  'views.open',
  'views.update',
] as const;
export type EmulatedSlackMethod = (typeof EMULATED_SLACK_METHODS)[number];

/** Slack only lets an app exchange a trigger_id within 3 seconds of the user's action. */
export const TRIGGER_TTL_MS = 3_000;
/** A response_url takes up to 5 responses within 30 minutes of the interaction. */
export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

/**
 * What views.open answers for a bad trigger. Slack's docs for views.* name these codes;
 * `trigger_expired` / `trigger_exchanged` belong to the legacy dialog.open method only.
 */
export const TRIGGER_ERRORS = {
  expired: 'expired_trigger_id',
  exchanged: 'exchanged_trigger_id',
  invalid: 'invalid_trigger_id',
} as const;

/**
 * Granular bot scope each method needs; checked so a token minted without, say,
 * users:read.email fails here the way it fails in a real workspace (`missing_scope`).
 */
const REQUIRED_SCOPE: Record<EmulatedSlackMethod, string | undefined> = {
  'auth.test': undefined,
  'chat.postEphemeral': 'chat:write',
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'conversations.open': 'im:write',
  'users.info': 'users:read',
  'users.lookupByEmail': 'users:read.email',
  'views.open': undefined,
  'views.update': undefined,
};
/** The scopes jit-access's Slack app asks for (slack-app-manifest.yaml), and what the tests run with. */
export const DEFAULT_SCOPES = ['commands', 'chat:write', 'im:write', 'users:read', 'users:read.email'];

/** Slack rejects message text longer than this with `msg_too_long`. */
const MAX_TEXT_LENGTH = 40_000;
const MAX_MESSAGE_BLOCKS = 50;
const MAX_VIEW_BLOCKS = 100;
/** Modal title, submit and close texts are limited to 24 characters. */
const MAX_VIEW_LABEL = 24;
const MAX_PRIVATE_METADATA = 3_000;
/** What Slack shows (and returns as `text`) for a message sent with blocks but no text. */
const BLOCKS_ONLY_FALLBACK_TEXT = "This content can't be displayed.";

export interface SlackUserFixture {
  /** U… or W… */
  id: string;
  /** The handle (`name`), e.g. `jdoe`. */
  name: string;
  realName: string;
  email: string;
  /** Deactivated: users.info still returns the user (with `deleted: true`); lookupByEmail does not. */
  deleted?: boolean;
  isBot?: boolean;
  isAdmin?: boolean;
  displayName?: string;
  tz?: string;
  /** A guest: `multi` is_restricted (multi-channel), `single` is_ultra_restricted (single-channel). */
  guest?: 'multi' | 'single';
  /** Someone from another organisation in a shared (Slack Connect) channel: their own team id. */
  homeTeamId?: string;
  /** False: Slack has not confirmed the e-mail on the profile (`is_email_confirmed: false`). Default true. */
  emailConfirmed?: boolean;
}

export interface SlackChannelFixture {
  /** C… (public) or G… / C… (private). */
  id: string;
  name: string;
  isPrivate?: boolean;
  archived?: boolean;
  /** False models "the app was never invited": postMessage answers `not_in_channel`. Default true. */
  botIsMember?: boolean;
  /** When given, postEphemeral to anyone else answers `user_not_in_channel`. */
  members?: string[];
}

export interface SlackEmulatorOptions {
  botToken?: string;
  teamId?: string;
  teamName?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  appId?: string;
  /** Scopes the bot token was granted; defaults to what jit-access asks for. */
  scopes?: string[];
  users?: SlackUserFixture[];
  channels?: SlackChannelFixture[];
  /** Drives trigger and response_url expiry and message timestamps; tests move it instead of sleeping. */
  clock?: Clock;
}

export type SlackCallEncoding = 'form' | 'json' | 'query';

export interface RecordedSlackCall {
  method: string;
  /**
   * Arguments as decoded from the query string and body. Form values stay strings, so JSON
   * arguments (`blocks`, `view`, `attachments`) are the JSON text that went over the wire;
   * JSON bodies keep their native values.
   */
  params: Record<string, unknown>;
  /** The token Slack would authenticate with: the Bearer header, else a form/query `token`. */
  token?: string;
  at: Date;
  httpMethod: string;
  encoding: SlackCallEncoding;
  contentType?: string;
  rawBody: string;
  rawQuery: string;
  /** Request headers, lower-cased. */
  headers: Record<string, string>;
  response: { status: number; body: unknown };
}

export type SlackFailure = (
  | { error: 'ratelimited'; retryAfterSeconds?: number; times?: number }
  | { error: string; times?: number }
  | { status: number; body?: string; times?: number }
) & {
  /** Only calls whose parameters this accepts fail (e.g. the DM with a given text); others pass. */
  matching?: (params: Record<string, unknown>) => boolean;
};

export interface StoredSlackMessageVersion {
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  at: Date;
}

export interface StoredSlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  threadTs?: string;
  /** Ephemeral messages are only seen by `user` and cannot be changed with chat.update. */
  ephemeral: boolean;
  user?: string;
  via: 'chat.postMessage' | 'chat.postEphemeral' | 'response_url';
  postedAt: Date;
  editedAt?: Date;
  /** Earlier versions, oldest first; empty until the message is updated. */
  history: StoredSlackMessageVersion[];
}

export interface OpenedSlackView {
  /** The view as views.open returned it. */
  view: Record<string, unknown>;
  triggerId: string;
  userId?: string;
  at: Date;
}

export interface ResponseUrlOptions {
  /** Where messages posted to the URL land, as for the command or action that produced it. */
  channel?: string;
  /** Who sees an ephemeral (the default `response_type`) response. */
  userId?: string;
  /** The message a block action came from, for `replace_original` / `delete_original`. */
  messageTs?: string;
  kind?: 'commands' | 'actions';
}

export interface RecordedResponseUrlPost {
  url: string;
  at: Date;
  status: number;
  /** What the emulator answered: `ok` or the error text. */
  answer: string;
  contentType?: string;
  rawBody: string;
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
}

interface ChannelRecord {
  id: string;
  name: string;
  kind: 'public' | 'private' | 'im' | 'mpim';
  archived: boolean;
  botIsMember: boolean;
  members?: Set<string>;
  /** The other party of a DM. */
  user?: string;
  created: number;
}

interface TriggerRecord {
  issuedAt: number;
  userId?: string;
  exchanged: boolean;
}

interface ResponseUrlRecord extends ResponseUrlOptions {
  url: string;
  issuedAt: number;
  uses: number;
}

interface PendingFailure {
  failure: SlackFailure;
  remaining: number;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

interface CallWaiter {
  method: string;
  predicate: (call: RecordedSlackCall) => boolean;
  resolve: (call: RecordedSlackCall) => void;
}

type Params = Record<string, unknown>;
type Outcome = { ok: true; body: Record<string, unknown> } | { ok: false; body: Record<string, unknown> };

const systemClock: Clock = { now: () => new Date() };

/**
 * An in-process stand-in for the Slack Web API and response_url endpoints on 127.0.0.1.
 *
 * Point a WebClient at it with `new WebClient(token, { slackApiUrl: emulator.apiUrl })`. It keeps
 * the state later tests assert on (messages per channel, opened views, DMs), records every call,
 * and can be told to fail the next calls to a method.
 */
export class SlackEmulator {
  readonly calls: RecordedSlackCall[] = [];

  private server: LoopbackServer | undefined;
  private baseUrl: string | undefined;
  private readonly clock: Clock;
  private readonly botToken: string;
  readonly teamId: string;
  readonly teamName: string;
  readonly teamDomain: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly botName: string;
  readonly appId: string;
  private readonly scopes: Set<string>;
  private readonly users = new Map<string, SlackUserFixture & { updated: number }>();
  private readonly channels = new Map<string, ChannelRecord>();
  private readonly dmByUser = new Map<string, string>();
  private readonly mpimByMembers = new Map<string, string>();
  private readonly messages = new Map<string, StoredSlackMessage[]>();
  private readonly triggers = new Map<string, TriggerRecord>();
  private readonly views: OpenedSlackView[] = [];
  private readonly responseUrls = new Map<string, ResponseUrlRecord>();
  private readonly responsePosts: RecordedResponseUrlPost[] = [];
  private readonly failures = new Map<string, PendingFailure[]>();
  private readonly delays = new Map<string, number[]>();
  private readonly waiters: CallWaiter[] = [];
  private lastTsMicros = 0;
  private idSequence = 0;

  constructor(options: SlackEmulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.botToken = options.botToken ?? 'xoxb-test-token-of-the-emulator';
    this.teamId = options.teamId ?? 'T0JITTEAM01';
    this.teamName = options.teamName ?? 'jit-access test workspace';
    this.teamDomain = options.teamDomain ?? 'jit-access-test';
    this.botUserId = options.botUserId ?? 'U0JITBOT001';
    this.botId = options.botId ?? 'B0JITBOT001';
    this.botName = options.botName ?? 'jit-access';
    this.appId = options.appId ?? 'A0JITACCESS';
    this.scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
    for (const user of options.users ?? []) this.addUser(user);
    for (const channel of options.channels ?? []) this.addChannel(channel);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.server) throw new Error('the Slack emulator is already started');
    this.server = await startLoopbackServer('slack emulator', (req, res) => this.handle(req, res));
    this.baseUrl = this.server.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** http://127.0.0.1:<port> */
  get url(): string {
    if (!this.baseUrl) throw new Error('the Slack emulator is not started');
    return this.baseUrl;
  }

  /** For WebClient's `slackApiUrl`; ends with `/api/` like https://slack.com/api/. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** The token the emulator accepts (for tests that build their own clients). */
  get token(): string {
    return this.botToken;
  }

  // ---- fixtures --------------------------------------------------------------------------

  addUser(user: SlackUserFixture): void {
    this.users.set(user.id, { ...user, updated: this.seconds() });
  }

  /** Deactivates (or reactivates) a user, as an admin would in the workspace. */
  setUserDeleted(userId: string, deleted: boolean): void {
    const user = this.users.get(userId);
    if (!user) throw new Error(`unknown user ${userId}`);
    user.deleted = deleted;
    user.updated = this.seconds();
  }

  addChannel(channel: SlackChannelFixture): void {
    this.channels.set(channel.id, {
      id: channel.id,
      name: channel.name.replace(/^#/, ''),
      kind: channel.isPrivate ? 'private' : 'public',
      archived: channel.archived ?? false,
      botIsMember: channel.botIsMember ?? true,
      members: channel.members ? new Set(channel.members) : undefined,
      created: this.seconds(),
    });
  }

  /** A trigger_id as Slack puts in a slash command or interaction; exchangeable once, for 3 s. */
  issueTriggerId(options: { userId?: string } = {}): string {
    const id = `${randomInt(1e9, 1e10)}.${randomInt(1e10, 1e11)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: this.clock.now().getTime(), userId: options.userId, exchanged: false });
    return id;
  }

  /** A response_url on this emulator, like https://hooks.slack.com/commands/T…/…/… */
  newResponseUrl(options: ResponseUrlOptions = {}): string {
    const kind = options.kind ?? 'commands';
    const path = `/${kind}/${this.teamId}/${randomInt(1e11, 1e12)}/${randomBytes(12).toString('base64url')}`;
    const url = `${this.url}${path}`;
    this.responseUrls.set(path, {
      ...options,
      channel: options.channel
        ? (this.resolveChannel(options.channel, true)?.id ?? options.channel)
        : undefined,
      url,
      issuedAt: this.clock.now().getTime(),
      uses: 0,
    });
    return url;
  }

  // ---- failure injection -----------------------------------------------------------------

  /**
   * Makes the next `times` (default 1) calls to `method` fail. `method` is a Web API method name
   * or `response_url` for posts to any response_url.
   */
  failNext(method: string, failure: SlackFailure): void {
    const remaining = failure.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) throw new Error('times must be a positive integer');
    const queue = this.failures.get(method) ?? [];
    queue.push({ failure, remaining });
    this.failures.set(method, queue);
  }

  /**
   * The next `times` (default 1) calls to `method` (or `response_url`) are carried out as usual,
   * but answered only after `delayMs` of real time: Slack being slow, not failing.
   */
  slowNext(method: string, delayMs: number, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new Error('times must be a positive integer');
    this.delays.set(method, [...(this.delays.get(method) ?? []), ...Array<number>(times).fill(delayMs)]);
  }

  private answerAfterDelay(method: string, res: ServerResponse, write: () => void): void {
    const delay = this.delays.get(method)?.shift();
    if (delay === undefined) return write();
    setTimeout(() => {
      if (!res.destroyed) write();
    }, delay).unref();
  }

  // ---- inspection ------------------------------------------------------------------------

  callsTo(method: string): RecordedSlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /**
   * Resolves with the first call to `method` (already made or still to come) that matches, so a
   * test of asynchronous code need not poll.
   */
  waitForCall(
    method: string,
    options: { predicate?: (call: RecordedSlackCall) => boolean; timeoutMs?: number } = {},
  ): Promise<RecordedSlackCall> {
    const predicate = options.predicate ?? (() => true);
    const existing = this.calls.find((call) => call.method === method && predicate(call));
    if (existing) return Promise.resolve(existing);
    const timeoutMs = options.timeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      const waiter: CallWaiter = {
        method,
        predicate,
        resolve: (call) => {
          clearTimeout(timer);
          resolve(call);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no call to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Messages in a channel, oldest first, including ephemeral ones (see `ephemeral` / `user`).
   * `channel` may be an id, a `#name`, or a user id for the app's DM with that user.
   */
  messagesIn(channel: string): StoredSlackMessage[] {
    const record = this.resolveChannel(channel, false);
    if (!record) return [];
    return structuredClone(this.messages.get(record.id) ?? []);
  }

  message(channel: string, ts: string): StoredSlackMessage | undefined {
    return this.messagesIn(channel).find((message) => message.ts === ts);
  }

  /** The app's DM channel id with a user, if one was opened (by conversations.open or a post). */
  dmChannelOf(userId: string): string | undefined {
    return this.dmByUser.get(userId);
  }

  openedViews(): OpenedSlackView[] {
    return structuredClone(this.views);
  }

  /** Posts to a response_url (all of them when `url` is omitted), accepted or not. */
  responses(url?: string): RecordedResponseUrlPost[] {
    return structuredClone(
      url === undefined ? this.responsePosts : this.responsePosts.filter((p) => p.url === url),
    );
  }

  /**
   * Forgets calls, messages, views, DMs, triggers, response_urls and pending failures; keeps the
   * users and channels given as fixtures.
   */
  reset(): void {
    this.calls.length = 0;
    this.messages.clear();
    this.views.length = 0;
    this.triggers.clear();
    this.responseUrls.clear();
    this.responsePosts.length = 0;
    this.failures.clear();
    this.delays.clear();
    this.dmByUser.clear();
    this.mpimByMembers.clear();
    for (const [id, channel] of this.channels) {
      if (channel.kind === 'im' || channel.kind === 'mpim') this.channels.delete(id);
    }
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/api/')) {
      this.handleApi(req, url, rawBody, res);
      return;
    }
    if (req.method === 'POST' && /^\/(commands|actions)\//.test(url.pathname)) {
      this.handleResponseUrl(req, url, rawBody, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  private handleApi(req: IncomingMessage, url: URL, rawBody: string, res: ServerResponse): void {
    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    const headers = lowerCaseHeaders(req);
    const contentType = headers['content-type'];
    const parsed = parseArguments(contentType, rawBody, url.searchParams);
    const headerToken = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
    // Slack ignores a `token` inside a JSON body: JSON callers must use the Authorization header.
    const argumentToken =
      parsed.encoding !== 'json' && typeof parsed.params.token === 'string' ? parsed.params.token : undefined;
    const call: RecordedSlackCall = {
      method,
      params: parsed.params,
      token: headerToken ?? argumentToken,
      at: this.clock.now(),
      httpMethod: req.method ?? 'GET',
      encoding: parsed.encoding,
      contentType,
      rawBody,
      rawQuery: url.search.replace(/^\?/, ''),
      headers,
      response: { status: 0, body: undefined },
    };
    this.calls.push(call);

    const reply = this.answer(call, parsed.problem);
    if (parsed.encoding === 'json' && contentType && !/charset=/i.test(contentType) && reply.status === 200) {
      // Slack accepts a JSON body without a charset but says so in every answer.
      reply.body.warning = 'missing_charset';
      reply.body.response_metadata = { warnings: ['missing_charset'] };
    }
    call.response = { status: reply.status, body: reply.body };
    this.answerAfterDelay(method, res, () => {
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
    this.notifyWaiters(call);
  }

  private answer(call: RecordedSlackCall, parseProblem: string | undefined): Reply {
    const injected = this.takeFailure(call.method, call.params);
    if (injected) return injected;
    if (parseProblem) return { status: 200, body: { ok: false, error: parseProblem } };
    if (!isEmulated(call.method)) {
      return { status: 404, body: { ok: false, error: 'unknown_method', req_method: call.method } };
    }
    if (!call.token) return { status: 200, body: { ok: false, error: 'not_authed' } };
    if (call.token !== this.botToken) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const scopeHeaders = {
      'x-oauth-scopes': [...this.scopes].join(','),
      'x-accepted-oauth-scopes': REQUIRED_SCOPE[call.method] ?? '',
    };
    const needed = REQUIRED_SCOPE[call.method];
    if (needed && !this.scopes.has(needed)) {
      return {
        status: 200,
        headers: scopeHeaders,
        body: { ok: false, error: 'missing_scope', needed, provided: [...this.scopes].join(',') },
      };
    }
    const outcome = this.dispatch(call.method, call.params);
    return {
      status: 200,
      headers: scopeHeaders,
      body: outcome.ok ? { ok: true, ...outcome.body } : { ok: false, ...outcome.body },
    };
  }

  private dispatch(method: EmulatedSlackMethod, params: Params): Outcome {
    switch (method) {
      case 'auth.test':
        return this.authTest();
      case 'users.info':
        return this.usersInfo(params);
      case 'users.lookupByEmail':
        return this.usersLookupByEmail(params);
      case 'conversations.open':
        return this.conversationsOpen(params);
      case 'chat.postMessage':
        return this.chatPostMessage(params);
      case 'chat.postEphemeral':
        return this.chatPostEphemeral(params);
      case 'chat.update':
        return this.chatUpdate(params);
      case 'views.open':
        return this.viewsOpen(params);
      case 'views.update':
        return this.viewsUpdate(params);
    }
  }

  private takeFailure(method: string, params: Record<string, unknown> = {}): Reply | undefined {
    const queue = this.failures.get(method);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    if (next.failure.matching && !next.failure.matching(params)) return undefined;
    next.remaining -= 1;
    if (next.remaining === 0) queue.shift();
    const { failure } = next;
    if ('status' in failure) {
      return { status: failure.status, body: { ok: false, error: failure.body ?? `http_${failure.status}` } };
    }
    if (failure.error === 'ratelimited') {
      const retryAfter = 'retryAfterSeconds' in failure ? (failure.retryAfterSeconds ?? 1) : 1;
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfter) },
        body: { ok: false, error: 'ratelimited' },
      };
    }
    return { status: 200, body: { ok: false, error: failure.error } };
  }

  private notifyWaiters(call: RecordedSlackCall): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.method === call.method && waiter.predicate(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  }

  // ---- methods ---------------------------------------------------------------------------

  private authTest(): Outcome {
    return success({
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.teamName,
      user: this.botName,
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    });
  }

  private usersInfo(params: Params): Outcome {
    // users.info documents `user` as optional but answers user_not_found without it.
    const user = this.users.get(stringParam(params, 'user') ?? '');
    if (!user) return failure('user_not_found');
    return success({ user: this.userObject(user, booleanParam(params, 'include_locale')) });
  }

  private usersLookupByEmail(params: Params): Outcome {
    const email = stringParam(params, 'email');
    if (!email) return missingArgument('email');
    const wanted = email.trim().toLowerCase();
    // Deactivated users and bots are not found by email, as in Slack.
    const user = [...this.users.values()].find(
      (candidate) => !candidate.deleted && !candidate.isBot && candidate.email.toLowerCase() === wanted,
    );
    if (!user) return failure('users_not_found');
    return success({ user: this.userObject(user, false) });
  }

  private conversationsOpen(params: Params): Outcome {
    const channelId = stringParam(params, 'channel');
    const userList = stringParam(params, 'users');
    const returnIm = booleanParam(params, 'return_im');
    if (channelId) {
      const channel = this.channels.get(channelId);
      if (!channel || (channel.kind !== 'im' && channel.kind !== 'mpim')) return failure('channel_not_found');
      return success({
        no_op: true,
        already_open: true,
        channel: this.conversationObject(channel, returnIm),
      });
    }
    if (!userList) return failure('users_list_not_supplied');
    const ids = [...new Set(userList.split(',').map((id) => id.trim()))].filter((id) => id !== '');
    if (ids.length === 0) return failure('users_list_not_supplied');
    if (ids.length > 8) return failure('too_many_users');
    for (const id of ids) {
      const user = this.users.get(id);
      if (!user) return failure('user_not_found');
      if (user.deleted) return failure('user_disabled');
    }
    const [only] = ids;
    if (ids.length === 1 && only) {
      const alreadyOpen = this.dmByUser.has(only);
      const channel = this.openDm(only);
      return success({
        ...(alreadyOpen ? { no_op: true, already_open: true } : {}),
        channel: this.conversationObject(channel, returnIm),
      });
    }
    const key = [...ids].sort().join(',');
    const existing = this.mpimByMembers.get(key);
    const id = existing ?? this.newId('G');
    if (!existing) {
      this.mpimByMembers.set(key, id);
      this.channels.set(id, {
        id,
        name: `mpdm-${ids.join('--')}-1`,
        kind: 'mpim',
        archived: false,
        botIsMember: true,
        members: new Set([...ids, this.botUserId]),
        created: this.seconds(),
      });
    }
    const channel = this.channels.get(id)!;
    return success({
      ...(existing ? { no_op: true, already_open: true } : {}),
      channel: this.conversationObject(channel, returnIm),
    });
  }

  private chatPostMessage(params: Params): Outcome {
    const channelRef = stringParam(params, 'channel');
    if (!channelRef) return missingArgument('channel');
    const content = messageContent(params);
    if (!content.ok) return content;
    const channel = this.resolveChannel(channelRef, true);
    if (!channel) return failure('channel_not_found');
    if (channel.archived) return failure('is_archived');
    if (!channel.botIsMember) return failure('not_in_channel');
    const threadTs = stringParam(params, 'thread_ts');
    const message = this.store({
      channel: channel.id,
      ts: this.nextTs(),
      ...content.value,
      threadTs,
      ephemeral: false,
      via: 'chat.postMessage',
    });
    return success({ channel: channel.id, ts: message.ts, message: this.messageObject(message) });
  }

  private chatPostEphemeral(params: Params): Outcome {
    const channelRef = stringParam(params, 'channel');
    if (!channelRef) return missingArgument('channel');
    const userId = stringParam(params, 'user');
    if (!userId) return missingArgument('user');
    const content = messageContent(params);
    if (!content.ok) return content;
    const channel = this.resolveChannel(channelRef, true);
    if (!channel || !channel.botIsMember) return failure('channel_not_found');
    if (channel.archived) return failure('is_archived');
    const user = this.users.get(userId);
    const inChannel =
      channel.kind === 'im' ? channel.user === userId : (channel.members?.has(userId) ?? user !== undefined);
    if (!user || user.deleted || !inChannel) return failure('user_not_in_channel');
    const message = this.store({
      channel: channel.id,
      ts: this.nextTs(),
      ...content.value,
      threadTs: stringParam(params, 'thread_ts'),
      ephemeral: true,
      user: userId,
      via: 'chat.postEphemeral',
    });
    return success({ message_ts: message.ts });
  }

  private chatUpdate(params: Params): Outcome {
    const channelRef = stringParam(params, 'channel');
    if (!channelRef) return missingArgument('channel');
    const ts = stringParam(params, 'ts');
    if (!ts) return missingArgument('ts');
    const channel = this.resolveChannel(channelRef, false);
    if (!channel) return failure('channel_not_found');
    // Ephemeral messages are not in the channel's history, so Slack cannot find them either.
    const message = this.messages
      .get(channel.id)
      ?.find((candidate) => candidate.ts === ts && !candidate.ephemeral);
    if (!message) return failure('message_not_found');
    const blocks = jsonArgument(params, 'blocks', 'array');
    if (blocks.kind === 'invalid') return failure('invalid_blocks_format');
    const attachments = jsonArgument(params, 'attachments', 'array');
    if (attachments.kind === 'invalid') return failure('invalid_attachments');
    const text = stringParam(params, 'text');
    if (text === undefined && blocks.kind === 'absent' && attachments.kind === 'absent')
      return failure('no_text');
    if (text && text.length > MAX_TEXT_LENGTH) return failure('msg_too_long');
    if (blocks.kind === 'present') {
      const problem = blockProblem(blocks.value);
      if (problem) return problem;
    }
    message.history.push({
      text: message.text,
      blocks: message.blocks,
      attachments: message.attachments,
      at: message.editedAt ?? message.postedAt,
    });
    // Omitted blocks/attachments are kept, as Slack documents; text is replaced.
    if (blocks.kind === 'present') message.blocks = blocks.value as unknown[];
    if (attachments.kind === 'present') message.attachments = attachments.value as unknown[];
    message.text = text ?? (message.blocks?.length ? BLOCKS_ONLY_FALLBACK_TEXT : '');
    message.editedAt = this.clock.now();
    const echoed = this.messageObject(message);
    echoed.edited = { user: this.botUserId, ts: this.nextTs() };
    return success({ channel: channel.id, ts: message.ts, text: message.text, message: echoed });
  }

  private viewsOpen(params: Params): Outcome {
    const triggerId = stringParam(params, 'trigger_id') ?? stringParam(params, 'interactivity_pointer');
    const viewArgument = jsonArgument(params, 'view', 'object');
    if (viewArgument.kind === 'absent') return missingArgument('view');
    if (!triggerId) return missingArgument('trigger_id');
    if (viewArgument.kind === 'invalid')
      return invalidArguments('must provide an object [json-pointer:/view]');
    const view = viewArgument.value as Record<string, unknown>;
    const problem = viewProblem(view);
    if (problem) return invalidArguments(problem);

    if (!/^\d+\.\d+\.[0-9a-f]+$/.test(triggerId)) return failure(TRIGGER_ERRORS.invalid);
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return failure(TRIGGER_ERRORS.invalid);
    if (trigger.exchanged) return failure(TRIGGER_ERRORS.exchanged);
    if (this.clock.now().getTime() - trigger.issuedAt >= TRIGGER_TTL_MS)
      return failure(TRIGGER_ERRORS.expired);
    trigger.exchanged = true;

    const id = this.newId('V');
    const opened: Record<string, unknown> = {
      id,
      team_id: this.teamId,
      type: view.type,
      blocks: withBlockIds(view.blocks),
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      state: { values: {} },
      hash: `${this.seconds()}.${randomBytes(4).toString('hex')}`,
      title: view.title,
      clear_on_close: view.clear_on_close ?? false,
      notify_on_close: view.notify_on_close ?? false,
      close: view.close ?? null,
      submit: view.submit ?? null,
      previous_view_id: null,
      root_view_id: id,
      app_id: this.appId,
      external_id: view.external_id ?? '',
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
    this.views.push({
      view: structuredClone(opened),
      triggerId,
      userId: trigger.userId,
      at: this.clock.now(),
    });
    return success({ view: opened });
  }

  /** Replaces an open view; a stale `hash` means the user changed it meanwhile (`hash_conflict`). */
  private viewsUpdate(params: Params): Outcome {
    const viewId = stringParam(params, 'view_id');
    const viewArgument = jsonArgument(params, 'view', 'object');
    if (viewArgument.kind === 'absent') return missingArgument('view');
    if (!viewId) return missingArgument('view_id');
    if (viewArgument.kind === 'invalid')
      return invalidArguments('must provide an object [json-pointer:/view]');
    const view = viewArgument.value as Record<string, unknown>;
    const problem = viewProblem(view);
    if (problem) return invalidArguments(problem);
    const current = [...this.views].reverse().find((v) => v.view.id === viewId);
    if (!current) return failure('not_found');
    const hash = stringParam(params, 'hash');
    if (hash !== undefined && hash !== current.view.hash) return failure('hash_conflict');
    const updated: Record<string, unknown> = {
      ...current.view,
      type: view.type,
      blocks: withBlockIds(view.blocks),
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      title: view.title,
      close: view.close ?? null,
      submit: view.submit ?? null,
      hash: `${this.seconds()}.${randomBytes(4).toString('hex')}`,
    };
    this.views.push({ ...current, view: structuredClone(updated), at: this.clock.now() });
    return success({ view: updated });
  }

  // ---- response_url ----------------------------------------------------------------------

  private handleResponseUrl(req: IncomingMessage, url: URL, rawBody: string, res: ServerResponse): void {
    const contentType = lowerCaseHeaders(req)['content-type'];
    const fullUrl = `${this.url}${url.pathname}`;
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const { status, answer } = this.answerResponseUrl(url.pathname, body);
    this.responsePosts.push({
      url: fullUrl,
      at: this.clock.now(),
      status,
      answer,
      contentType,
      rawBody,
      body,
    });
    this.answerAfterDelay('response_url', res, () => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(answer);
    });
  }

  private answerResponseUrl(path: string, body: unknown): { status: number; answer: string } {
    const injected = this.takeFailure('response_url');
    if (injected) return { status: injected.status, answer: String(injected.body.error) };
    const record = this.responseUrls.get(path);
    if (!record) return { status: 404, answer: 'no_service' };
    const expired = this.clock.now().getTime() - record.issuedAt >= RESPONSE_URL_TTL_MS;
    if (expired || record.uses >= RESPONSE_URL_MAX_USES) return { status: 404, answer: 'expired_url' };
    if (!isRecord(body)) return { status: 400, answer: 'invalid_payload' };

    const original =
      record.channel && record.messageTs
        ? this.messages.get(record.channel)?.find((message) => message.ts === record.messageTs)
        : undefined;
    if (body.delete_original === true) {
      record.uses += 1;
      if (original && record.channel) {
        const list = this.messages.get(record.channel) ?? [];
        list.splice(list.indexOf(original), 1);
      }
      return { status: 200, answer: 'ok' };
    }
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    const attachments = Array.isArray(body.attachments) ? body.attachments : undefined;
    const text = typeof body.text === 'string' ? body.text : undefined;
    if (!text && !blocks?.length && !attachments?.length) return { status: 400, answer: 'no_text' };
    record.uses += 1;

    if (body.replace_original === true && original) {
      original.history.push({
        text: original.text,
        blocks: original.blocks,
        attachments: original.attachments,
        at: original.editedAt ?? original.postedAt,
      });
      original.text = text ?? BLOCKS_ONLY_FALLBACK_TEXT;
      original.blocks = blocks;
      original.attachments = attachments;
      original.editedAt = this.clock.now();
    } else if (record.channel) {
      const inChannel = body.response_type === 'in_channel';
      this.store({
        channel: record.channel,
        ts: this.nextTs(),
        text: text ?? BLOCKS_ONLY_FALLBACK_TEXT,
        blocks,
        attachments,
        ephemeral: !inChannel,
        user: inChannel ? undefined : record.userId,
        via: 'response_url',
      });
    }
    return { status: 200, answer: 'ok' };
  }

  // ---- state helpers ---------------------------------------------------------------------

  /**
   * Finds a channel by id, `#name`/name, or user id (the app's DM with them). With `open`, a DM
   * that does not exist yet is opened, as chat.postMessage to a user id does.
   */
  private resolveChannel(reference: string, open: boolean): ChannelRecord | undefined {
    const direct = this.channels.get(reference);
    if (direct) return direct;
    if (/^[UW][A-Z0-9]+$/.test(reference)) {
      const dm = this.dmByUser.get(reference);
      if (dm) return this.channels.get(dm);
      const user = this.users.get(reference);
      return open && user && !user.deleted ? this.openDm(reference) : undefined;
    }
    const name = reference.replace(/^#/, '');
    return [...this.channels.values()].find(
      (channel) => (channel.kind === 'public' || channel.kind === 'private') && channel.name === name,
    );
  }

  private openDm(userId: string): ChannelRecord {
    const existing = this.dmByUser.get(userId);
    if (existing) return this.channels.get(existing)!;
    const id = this.newId('D');
    const channel: ChannelRecord = {
      id,
      name: userId,
      kind: 'im',
      archived: false,
      botIsMember: true,
      user: userId,
      created: this.seconds(),
    };
    this.channels.set(id, channel);
    this.dmByUser.set(userId, id);
    return channel;
  }

  private store(message: Omit<StoredSlackMessage, 'postedAt' | 'history'>): StoredSlackMessage {
    const stored: StoredSlackMessage = { ...message, postedAt: this.clock.now(), history: [] };
    const list = this.messages.get(message.channel) ?? [];
    list.push(stored);
    this.messages.set(message.channel, list);
    return stored;
  }

  private messageObject(message: StoredSlackMessage): Record<string, unknown> {
    const seconds = this.seconds();
    return {
      user: this.botUserId,
      type: 'message',
      ts: message.ts,
      bot_id: this.botId,
      text: message.text,
      team: this.teamId,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      bot_profile: {
        id: this.botId,
        deleted: false,
        name: this.botName,
        updated: seconds,
        app_id: this.appId,
        icons: {
          image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png',
          image_48: 'https://a.slack-edge.com/80588/img/plugins/app/bot_48.png',
          image_72: 'https://a.slack-edge.com/80588/img/plugins/app/service_72.png',
        },
        team_id: this.teamId,
      },
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.attachments
        ? { attachments: message.attachments.map((a, index) => (isRecord(a) ? { id: index + 1, ...a } : a)) }
        : {}),
    };
  }

  private conversationObject(channel: ChannelRecord, full: boolean): Record<string, unknown> {
    if (!full) return { id: channel.id };
    return {
      id: channel.id,
      created: channel.created,
      is_im: channel.kind === 'im',
      is_open: true,
      last_read: '0000000000.000000',
      latest: null,
      unread_count: 0,
      unread_count_display: 0,
      ...(channel.user ? { user: channel.user } : {}),
    };
  }

  private userObject(
    user: SlackUserFixture & { updated: number },
    includeLocale: boolean,
  ): Record<string, unknown> {
    const hash = createHash('md5').update(user.email.toLowerCase()).digest('hex');
    const image = (size: number) =>
      `https://secure.gravatar.com/avatar/${hash}.jpg?s=${size}&d=https%3A%2F%2Fa.slack-edge.com%2Fdf10d%2Fimg%2Favatars%2Fava_0010-${size}.png`;
    const [firstName = '', ...rest] = user.realName.split(' ');
    const displayName = user.displayName ?? '';
    const profile: Record<string, unknown> = {
      title: '',
      phone: '',
      skype: '',
      real_name: user.realName,
      real_name_normalized: user.realName.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''),
      display_name: displayName,
      display_name_normalized: displayName.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''),
      fields: null,
      status_text: '',
      status_emoji: '',
      status_expiration: 0,
      avatar_hash: `g${hash.slice(0, 11)}`,
      first_name: firstName,
      last_name: rest.join(' '),
      image_24: image(24),
      image_32: image(32),
      image_48: image(48),
      image_72: image(72),
      image_192: image(192),
      image_512: image(512),
      team: this.teamId,
      // Bots have no email address in Slack.
      ...(user.isBot
        ? { bot_id: this.botId, api_app_id: this.appId, always_active: true }
        : { email: user.email }),
    };
    const tz = user.tz ?? 'Europe/London';
    return {
      id: user.id,
      team_id: user.homeTeamId ?? this.teamId,
      name: user.name,
      deleted: user.deleted ?? false,
      color: '9f69e7',
      real_name: user.realName,
      // A deactivated account keeps only its identity; role and time-zone fields go away.
      ...(user.deleted
        ? {}
        : {
            tz,
            tz_label: tz === 'Europe/London' ? 'Greenwich Mean Time' : tz,
            tz_offset: 0,
            is_admin: user.isAdmin ?? false,
            is_owner: false,
            is_primary_owner: false,
            is_restricted: user.guest === 'multi' || user.guest === 'single',
            is_ultra_restricted: user.guest === 'single',
          }),
      is_bot: user.isBot ?? false,
      is_app_user: false,
      // Slack sends is_email_confirmed (the node SDK's UsersInfoResponse has it), but its archived
      // OpenAPI description does not allow it: sent here only when false, the case that matters.
      ...(user.emailConfirmed === false && !user.isBot && !user.deleted ? { is_email_confirmed: false } : {}),
      updated: user.updated,
      ...(user.isBot || user.deleted ? {} : { has_2fa: false }),
      ...(includeLocale ? { locale: 'en-US' } : {}),
      profile,
    };
  }

  /** Slack timestamps: seconds.microseconds, unique and increasing within the workspace here. */
  private nextTs(): string {
    let micros = this.clock.now().getTime() * 1000;
    if (micros <= this.lastTsMicros) micros = this.lastTsMicros + 1;
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  private newId(prefix: string): string {
    this.idSequence += 1;
    return `${prefix}0${this.idSequence.toString(36).toUpperCase().padStart(9, '0')}`;
  }

  private seconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

/** Starts an emulator on a free loopback port. */
export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emulator = new SlackEmulator(options);
  await emulator.start();
  return emulator;
}

// ---- parsing and validation helpers -----------------------------------------------------

function isEmulated(method: string): method is EmulatedSlackMethod {
  return (EMULATED_SLACK_METHODS as readonly string[]).includes(method);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseArguments(
  contentType: string | undefined,
  rawBody: string,
  query: URLSearchParams,
): { params: Params; encoding: SlackCallEncoding; problem?: string } {
  const params: Params = Object.fromEntries(query);
  if (rawBody === '') return { params, encoding: 'query' };
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      return { params, encoding: 'json', problem: 'invalid_json' };
    }
    if (!isRecord(parsed)) return { params, encoding: 'json', problem: 'json_not_object' };
    return { params: { ...params, ...parsed }, encoding: 'json' };
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    // URLSearchParams reads both `+` and `%20` as a space; WebClient sends `%20`.
    return { params: { ...params, ...Object.fromEntries(new URLSearchParams(rawBody)) }, encoding: 'form' };
  }
  // multipart is only used by WebClient for file uploads, which jit-access does not do.
  return { params, encoding: 'form', problem: 'invalid_form_data' };
}

function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function booleanParam(params: Params, name: string): boolean {
  const value = params[name];
  return value === true || value === 1 || value === 'true' || value === '1';
}

type JsonArgument = { kind: 'absent' } | { kind: 'invalid' } | { kind: 'present'; value: unknown };

/** A JSON argument: a JSON-encoded string (form/query) or, in a JSON body, the value itself. */
function jsonArgument(params: Params, name: string, shape: 'array' | 'object'): JsonArgument {
  let value = params[name];
  if (value === undefined || value === '') return { kind: 'absent' };
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { kind: 'invalid' };
    }
  }
  const fits = shape === 'array' ? Array.isArray(value) : isRecord(value);
  return fits ? { kind: 'present', value } : { kind: 'invalid' };
}

function success(body: Record<string, unknown>): Outcome {
  return { ok: true, body };
}

function failure(error: string, extra: Record<string, unknown> = {}): Outcome & { ok: false } {
  return { ok: false, body: { error, ...extra } };
}

function invalidArguments(message: string): Outcome & { ok: false } {
  return failure('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${message}`] } });
}

function missingArgument(name: string): Outcome & { ok: false } {
  return invalidArguments(`missing required field: ${name}`);
}

function blockProblem(blocks: unknown): (Outcome & { ok: false }) | undefined {
  if (!Array.isArray(blocks)) return failure('invalid_blocks_format');
  if (blocks.length > MAX_MESSAGE_BLOCKS) return failure('invalid_blocks');
  const malformed = blocks.findIndex((block) => !isRecord(block) || typeof block.type !== 'string');
  if (malformed >= 0) {
    return failure('invalid_blocks', {
      response_metadata: {
        messages: [`[ERROR] missing required field: type [json-pointer:/blocks/${malformed}]`],
      },
    });
  }
  return undefined;
}

type MessageContent =
  | { ok: true; value: { text: string; blocks?: unknown[]; attachments?: unknown[] } }
  | (Outcome & { ok: false });

/** text/blocks/attachments of a new message, with the errors Slack gives for each. */
function messageContent(params: Params): MessageContent {
  const blocks = jsonArgument(params, 'blocks', 'array');
  if (blocks.kind === 'invalid') return failure('invalid_blocks_format');
  const attachments = jsonArgument(params, 'attachments', 'array');
  if (attachments.kind === 'invalid') return failure('invalid_attachments');
  const text = stringParam(params, 'text');
  const blockList = blocks.kind === 'present' ? (blocks.value as unknown[]) : undefined;
  const attachmentList = attachments.kind === 'present' ? (attachments.value as unknown[]) : undefined;
  if (!text && !blockList?.length && !attachmentList?.length) return failure('no_text');
  if (text && text.length > MAX_TEXT_LENGTH) return failure('msg_too_long');
  if (blockList) {
    const problem = blockProblem(blockList);
    if (problem) return problem;
  }
  return {
    ok: true,
    value: {
      text: text ?? (blockList?.length ? BLOCKS_ONLY_FALLBACK_TEXT : ''),
      blocks: blockList,
      attachments: attachmentList,
    },
  };
}

function plainTextProblem(value: unknown, pointer: string, required: boolean): string | undefined {
  if (value === undefined || value === null)
    return required ? `missing required field: text [json-pointer:${pointer}]` : undefined;
  if (!isRecord(value) || value.type !== 'plain_text' || typeof value.text !== 'string') {
    return `must be a plain_text object [json-pointer:${pointer}]`;
  }
  if (value.text.length > MAX_VIEW_LABEL) {
    return `must be less than ${MAX_VIEW_LABEL + 1} characters [json-pointer:${pointer}/text]`;
  }
  return undefined;
}

/** The Block Kit limits a modal most often trips over, worded like Slack's `[ERROR]` messages. */
function viewProblem(view: Record<string, unknown>): string | undefined {
  if (view.type !== 'modal') return 'must be one of modal [json-pointer:/view/type]';
  const label =
    plainTextProblem(view.title, '/view/title', true) ??
    plainTextProblem(view.submit, '/view/submit', false) ??
    plainTextProblem(view.close, '/view/close', false);
  if (label) return label;
  if (!Array.isArray(view.blocks)) return 'missing required field: blocks [json-pointer:/view/blocks]';
  if (view.blocks.length > MAX_VIEW_BLOCKS) {
    return `must be less than ${MAX_VIEW_BLOCKS + 1} items [json-pointer:/view/blocks]`;
  }
  const hasInput = view.blocks.some((block) => isRecord(block) && block.type === 'input');
  if (hasInput && view.submit === undefined) {
    return 'must provide submit property when using input blocks [json-pointer:/view]';
  }
  for (const [index, block] of view.blocks.entries()) {
    if (!isRecord(block) || typeof block.type !== 'string') {
      return `missing required field: type [json-pointer:/view/blocks/${index}]`;
    }
    if (block.type === 'input' && (!isRecord(block.label) || !isRecord(block.element))) {
      return `missing required field: ${isRecord(block.label) ? 'element' : 'label'} [json-pointer:/view/blocks/${index}]`;
    }
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > MAX_PRIVATE_METADATA) {
    return `must be less than ${MAX_PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]`;
  }
  return undefined;
}

/** Slack gives every block without a block_id (and input element without an action_id) a random one. */
function withBlockIds(blocks: unknown): unknown[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.map((block) => {
    if (!isRecord(block)) return block;
    const copy: Record<string, unknown> = { ...block };
    if (typeof copy.block_id !== 'string') copy.block_id = randomBytes(3).toString('base64url');
    if (copy.type === 'input' && isRecord(copy.element) && typeof copy.element.action_id !== 'string') {
      copy.element = { ...copy.element, action_id: randomBytes(3).toString('base64url') };
    }
    return copy;
  });
}
