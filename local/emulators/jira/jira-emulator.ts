import { createHash, randomInt } from 'node:crypto';
import { type LoopbackServer, lowerCaseHeaders, readBody, startLoopbackServer } from '../loopback-server.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../shared/ports/clock.js';
import {
  DEFAULT_WEBHOOK_MAX_RETRIES,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type JiraPendingWebhook,
  type JiraWebhookDelivery,
  JiraWebhookDispatcher,
  type JiraWebhookEvent,
  type JiraWebhookRegistration,
} from './jira-webhooks.js';
import { adfFromText, adfToWiki, asRestV2, isAdfDocument } from './jira-adf.js';
import { type JqlQuery, parseJql } from './jira-jql.js';
import {
  ACCESS_REQUEST_WORKFLOW,
  buildProjects,
  buildWorkflows,
  type CommentRecord,
  APP_DECLARED_REQUEST_ID,
  DEFAULT_INDEXED_PROPERTIES,
  DEFAULT_MAX_RESULTS,
  DEFAULT_PROJECTS,
  ISSUE_FIELDS,
  type IssueField,
  type IssueRecord,
  type IssueTypeRecord,
  isRecord,
  type JiraCallMatcher,
  type JiraEmulatorOptions,
  type JiraFailure,
  type JiraIndexedProperty,
  type JiraIssueSnapshot,
  type JiraSeedIssue,
  type JiraUserFixture,
  MAX_LABEL_LENGTH,
  MAX_PROPERTY_KEY_LENGTH,
  MAX_PROPERTY_VALUE_LENGTH,
  MAX_RECONCILE_ISSUES,
  MAX_RESULTS_IDS_ONLY,
  MAX_RESULTS_WITH_FIELDS,
  MAX_SUMMARY_LENGTH,
  type ProjectRecord,
  type RecordedJiraCall,
  SETTABLE_FIELDS,
  SIMPLE_WORKFLOW,
  STATUS_CATEGORIES,
  type StatusRecord,
  type TransitionRecord,
  type WorkflowRecord,
} from './jira-model.js';
import {
  CLOUD_UNAUTHORIZED_TEXT,
  errorReply,
  failureReply,
  ISSUE_NOT_FOUND_MESSAGE,
  type JiraOperation,
  matchRoute,
  type Reply,
  type RouteMatch,
  SEARCH_REMOVED_MESSAGE,
  UNAUTHENTICATED_MESSAGE,
} from './jira-routes.js';
import {
  clauseProblem,
  compareViews,
  decodePageToken,
  encodePageToken,
  type IndexedView,
  matchesClause,
  reindex,
  settleIndex,
  valuesAtPath,
  viewOf,
} from './jira-search-index.js';

export {
  EMULATED_WEBHOOK_EVENTS,
  type JiraPendingWebhook,
  type JiraWebhookDelivery,
  type JiraWebhookEvent,
  type JiraWebhookRegistration,
  signWebhookBody,
} from './jira-webhooks.js';

export { isAdfDocument } from './jira-adf.js';
export {
  ACCESS_REQUEST_WORKFLOW,
  APP_DECLARED_REQUEST_ID,
  DEFAULT_INDEXED_PROPERTIES,
  DEFAULT_PROJECTS,
  type JiraCallMatcher,
  type JiraCommentSnapshot,
  type JiraEmulatorOptions,
  type JiraFailure,
  type JiraHistoryEntry,
  type JiraIndexedProperty,
  type JiraIssueSnapshot,
  type JiraIssueTypeFixture,
  type JiraProjectFixture,
  type JiraSeedIssue,
  type JiraStatusCategory,
  type JiraUserFixture,
  type JiraWorkflowFixture,
  type RecordedJiraCall,
  SIMPLE_WORKFLOW,
} from './jira-model.js';
export {
  CLOUD_UNAUTHORIZED_TEXT,
  EMULATED_JIRA_OPERATIONS,
  ISSUE_NOT_FOUND_MESSAGE,
  type JiraOperation,
  SEARCH_REMOVED_MESSAGE,
} from './jira-routes.js';

interface PendingFailure {
  matcher: JiraCallMatcher;
  failure: JiraFailure;
  remaining: number;
}

interface Principal {
  accountId: string;
}

const systemClock: Clock = { now: () => new Date() };

const DEFAULT_APP_USER = {
  accountId: '712020:5f0c6f2e-jit0-4acc-b0t0-000000000001',
  displayName: 'jit-access',
  emailAddress: 'jit-access@example.com',
};

const DEFAULT_API_TOKEN = 'test-jira-api-token-of-the-emulator';

export class JiraEmulator {
  readonly calls: RecordedJiraCall[] = [];

  private server: LoopbackServer | undefined;
  private baseUrl: string | undefined;
  private readonly clock: Clock;
  readonly appUser: { accountId: string; displayName: string; emailAddress: string };
  private readonly apiToken: string;
  private readonly accessToken: string | undefined;
  private readonly users = new Map<string, JiraUserFixture>();
  private readonly workflows: Map<string, WorkflowRecord>;
  private readonly projects: Map<string, ProjectRecord>;
  private indexedProperties: readonly JiraIndexedProperty[];
  private searchIndexLagMs: number;
  private latency: JiraEmulatorOptions['latencyMs'];
  private readonly unauthorizedBody: 'json' | 'text';
  private readonly issueStore = new Map<string, IssueRecord>();
  private failures: PendingFailure[] = [];
  private nextIssueId: number;
  private nextCommentId = 10_000;
  private nextChangelogId: number;
  private readonly webhooks: JiraWebhookDispatcher;

  constructor(options: JiraEmulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.webhooks = new JiraWebhookDispatcher({
      mode: options.webhookDelivery ?? 'immediate',
      maxRetries: options.webhookMaxRetries ?? DEFAULT_WEBHOOK_MAX_RETRIES,
      retryDelayMs: options.webhookRetryDelayMs ?? 0,
      timeoutMs: options.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      clock: this.clock,
    });
    this.nextChangelogId = 10_000 + randomInt(0, 90_000);
    this.appUser = { ...(options.appUser ?? DEFAULT_APP_USER) };
    this.apiToken = options.apiToken ?? DEFAULT_API_TOKEN;
    this.accessToken = options.accessToken;
    this.indexedProperties = options.indexedProperties ?? DEFAULT_INDEXED_PROPERTIES;
    this.searchIndexLagMs = options.searchIndexLagMs ?? 0;
    this.latency = options.latencyMs;
    this.unauthorizedBody = options.unauthorizedBody ?? 'json';
    // Issue ids are site-wide and only ever grow, which is what "oldest = lowest id" rests on.
    this.nextIssueId = 10_000 + randomInt(0, 90_000);
    this.users.set(this.appUser.accountId, {
      ...this.appUser,
      accountType: 'app',
      active: true,
      emailVisible: false,
    });
    for (const user of options.users ?? []) this.users.set(user.accountId, user);

    this.workflows = buildWorkflows(options.workflows ?? [ACCESS_REQUEST_WORKFLOW, SIMPLE_WORKFLOW]);
    this.projects = buildProjects(options.projects ?? DEFAULT_PROJECTS, this.workflows);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.server) throw new Error('the Jira emulator is already started');
    this.server = await startLoopbackServer('jira emulator', (req, res) => this.handle(req, res));
    this.baseUrl = this.server.url;
  }

  /** Stops answering; webhook attempts in flight and pending retries are abandoned. */
  async stop(): Promise<void> {
    this.webhooks.cancel();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** http://127.0.0.1:<port>, the `host` for a jira.js client. */
  get url(): string {
    if (!this.baseUrl) throw new Error('the Jira emulator is not started');
    return this.baseUrl;
  }

  /** The credentials the emulator accepts for Basic auth. */
  get credentials(): { email: string; apiToken: string } {
    return { email: this.appUser.emailAddress, apiToken: this.apiToken };
  }

  // ---- failure injection and timing -------------------------------------------------------

  /**
   * Makes the next `times` (default 1) calls that match fail. `route` is an operationId (see
   * EMULATED_JIRA_OPERATIONS), `*` for any call, or a predicate on the recorded call.
   */
  failNext(route: JiraCallMatcher, failure: JiraFailure): void {
    const remaining = failure.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) throw new Error('times must be a positive integer');
    this.failures.push({ matcher: route, failure, remaining });
  }

  setLatency(latencyMs: JiraEmulatorOptions['latencyMs']): void {
    this.latency = latencyMs;
  }

  setSearchIndexLag(ms: number): void {
    this.searchIndexLagMs = ms;
  }

  /** As if an app (a Forge `jira:entityProperty` module) declared these properties for JQL. */
  declareIndexedProperties(properties: readonly JiraIndexedProperty[]): void {
    this.indexedProperties = [...properties];
  }

  /** Lets the search index catch up with every change made so far. */
  indexNow(): void {
    for (const issue of this.issueStore.values()) {
      const latest = issue.pendingIndex.at(-1);
      if (latest) issue.indexed = latest.view;
      issue.pendingIndex = [];
    }
  }

  // ---- inspection and seeding --------------------------------------------------------------

  callsTo(operation: JiraOperation): RecordedJiraCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  /** Every issue, oldest first. */
  issues(): JiraIssueSnapshot[] {
    return [...this.issueStore.values()]
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((issue) => this.snapshot(issue));
  }

  issue(idOrKey: string): JiraIssueSnapshot | undefined {
    const record = this.findIssue(idOrKey);
    return record ? this.snapshot(record) : undefined;
  }

  /** Issues whose request-id property holds `requestId` (read live, not through search), oldest first. */
  issuesByRequestId(requestId: string): JiraIssueSnapshot[] {
    const [property] = APP_DECLARED_REQUEST_ID;
    if (!property) return [];
    return this.issues().filter((issue) =>
      valuesAtPath(issue.properties[property.key], property.path).some((value) => value === requestId),
    );
  }

  /** The oldest issue carrying `requestId`, as a test's "which ticket did we get" check. */
  issueByRequestId(requestId: string): JiraIssueSnapshot | undefined {
    return this.issuesByRequestId(requestId)[0];
  }

  /** Transition ids of an issue type's workflow by name, for tests that drive tickets by hand. */
  transitionIds(projectKey: string, issueType: string): Record<string, string> {
    const type = this.projects.get(projectKey)?.issueTypes.find((candidate) => candidate.name === issueType);
    if (!type) throw new Error(`no issue type ${issueType} in ${projectKey}`);
    return Object.fromEntries(
      type.workflow.transitions.map((transition) => [transition.name, transition.id]),
    );
  }

  /** Puts an issue in place without a call, as if someone created it in the UI. */
  seedIssue(seed: JiraSeedIssue): JiraIssueSnapshot {
    const project = this.projects.get(seed.projectKey);
    if (!project) throw new Error(`unknown project ${seed.projectKey}`);
    const issueType = project.issueTypes.find((type) => type.name === seed.issueType);
    if (!issueType) throw new Error(`no issue type ${seed.issueType} in ${seed.projectKey}`);
    if (seed.status && !issueType.workflow.statuses.has(seed.status)) {
      throw new Error(`no status ${seed.status} in workflow ${issueType.workflow.name}`);
    }
    const issue = this.insertIssue(project, issueType, {
      summary: seed.summary,
      description: seed.description ?? null,
      labels: seed.labels ?? [],
      reporterAccountId: this.appUser.accountId,
    });
    if (seed.status) issue.statusName = seed.status;
    for (const [key, value] of Object.entries(seed.properties ?? {}))
      issue.properties.set(key, structuredClone(value));
    reindex(issue, this.searchIndexLagMs, this.clock.now());
    return this.snapshot(issue);
  }

  /**
   * Forgets calls, issues, pending failures, webhook deliveries and webhooks not sent yet (attempts
   * in flight are abandoned); keeps users, projects, workflows (and so their transition ids) and
   * webhook registrations. Issue ids keep growing across resets, as they would on a real site.
   */
  reset(): void {
    this.calls.length = 0;
    this.issueStore.clear();
    this.failures = [];
    this.webhooks.reset();
    for (const project of this.projects.values()) project.nextIssueNumber = 1;
  }

  // ---- people in the UI ----------------------------------------------------------------------

  /**
   * A person moves the issue in the UI: checks the transition (by name) is available from the
   * current status, applies it, records who did it, and fires jira:issue_updated with a status
   * changelog authored by that person. Project permissions are the app user's and do not apply.
   * Throws for an unknown or deactivated account, an unknown issue or an unavailable transition.
   */
  transitionAs(issueIdOrKey: string, accountId: string, transitionName: string): JiraIssueSnapshot {
    const user = this.person(accountId);
    const issue = this.findIssue(issueIdOrKey);
    if (!issue) throw new Error(`jira emulator: no issue ${issueIdOrKey}`);
    const available = this.availableTransitions(issue);
    const chosen = available.find((transition) => transition.name === transitionName);
    if (!chosen) {
      const names = available.map((transition) => `'${transition.name}'`).join(', ') || 'none';
      throw new Error(
        `jira emulator: ${user.displayName} cannot '${transitionName}' ${issue.key} from '${issue.statusName}' (available: ${names})`,
      );
    }
    this.applyTransition(issue, chosen, user.accountId);
    return this.snapshot(issue);
  }

  /**
   * A person comments in the UI. `body` is an ADF document, or a string made into one paragraph per
   * line. Fires jira:issue_updated (`issue_commented`, with the comment and no changelog) and
   * comment_created. Throws for an unknown or deactivated account, an unknown issue or a bad body.
   */
  commentAs(issueIdOrKey: string, accountId: string, body: unknown): void {
    const user = this.person(accountId);
    const issue = this.findIssue(issueIdOrKey);
    if (!issue) throw new Error(`jira emulator: no issue ${issueIdOrKey}`);
    const document = typeof body === 'string' ? adfFromText(body) : body;
    if (document === undefined || !isAdfDocument(document)) {
      throw new Error('jira emulator: a comment body must be non-empty text or an Atlassian Document');
    }
    this.insertComment(issue, document, user.accountId);
  }

  // ---- webhooks ------------------------------------------------------------------------------

  /** An admin webhook, as registered on Settings → System → WebHooks. Ids are "1", "2", ... */
  registerWebhook(registration: JiraWebhookRegistration): { id: string } {
    return this.webhooks.register(registration);
  }

  /** Removes a registration; deliveries already made stay recorded. False when there was none. */
  unregisterWebhook(id: string): boolean {
    return this.webhooks.unregister(id);
  }

  /** The next `count` webhook events are never sent, as when Jira gives up on a delivery. */
  loseNextWebhooks(count = 1): void {
    this.webhooks.loseNext(count);
  }

  /** Resolves once every queued/in-flight delivery (with its retries) has finished. In 'manual' mode it sends nothing pending. */
  flushWebhooks(): Promise<void> {
    return this.webhooks.flush();
  }

  /** In 'manual' mode: events waiting to be sent (one entry per webhook), oldest first. */
  pendingWebhooks(): JiraPendingWebhook[] {
    return this.webhooks.pending();
  }

  /** In 'manual' mode: sends the pending events in the given order ('fifo' default, 'lifo' for out-of-order), one at a time with retries; resolves when done. */
  deliverWebhooks(options: { order?: 'fifo' | 'lifo' } = {}): Promise<void> {
    return this.webhooks.deliver(options.order ?? 'fifo');
  }

  /**
   * Sends an already-sent event again, same identifier and same body (Jira's at-least-once
   * duplicates), as one more attempt: it carries X-Atlassian-Webhook-Retry like a retry. No retries
   * of its own. Resolves with the receiver's status. Throws for an unknown or unsent identifier.
   */
  redeliverWebhook(identifier: string): Promise<number | 'network_error'> {
    return this.webhooks.redeliver(identifier);
  }

  /** Every attempt made, in the order they were made. */
  webhookDeliveries(): JiraWebhookDelivery[] {
    return this.webhooks.deliveries();
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = lowerCaseHeaders(req);
    const routed = matchRoute(method, url.pathname);
    const query: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
    const call: RecordedJiraCall = {
      operation: routed.route?.operation,
      method,
      path: url.pathname,
      template: routed.route?.template,
      pathParams: routed.params,
      query,
      rawQuery: url.search.replace(/^\?/, ''),
      body: parseJson(rawBody),
      rawBody,
      headers,
      at: this.clock.now(),
      injected: false,
      response: { status: 0, body: undefined, headers: {} },
    };
    this.calls.push(call);

    const delay = typeof this.latency === 'function' ? this.latency(call) : (this.latency ?? 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const failure = this.takeFailure(call);
    let reply: Reply;
    if (failure && !failure.afterHandling) {
      if (failure.dropConnection) {
        call.injected = true;
        call.response = { status: 0, body: undefined, headers: {} };
        req.socket.destroy();
        return;
      }
      reply = failureReply(failure);
      call.injected = true;
    } else {
      reply = this.answer(call, routed, rawBody);
      if (failure) {
        call.injected = true;
        if (failure.dropConnection) {
          req.socket.destroy();
          return;
        }
        reply = failureReply(failure);
      }
    }
    this.send(res, call, reply);
  }

  private send(res: ServerResponse, call: RecordedJiraCall, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers };
    let payload: string | undefined;
    if (reply.text !== undefined) {
      headers['content-type'] ??= 'text/plain;charset=UTF-8';
      payload = reply.text;
    } else if (reply.body !== undefined) {
      headers['content-type'] = 'application/json;charset=UTF-8';
      payload = JSON.stringify(reply.body);
    }
    call.response = { status: reply.status, body: reply.text ?? reply.body, headers };
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  private answer(call: RecordedJiraCall, routed: RouteMatch, rawBody: string): Reply {
    if (!routed.route) {
      if (routed.methodNotAllowed) return { status: 405 };
      return errorReply(404, [`jira emulator: no emulated operation for ${call.method} ${call.path}`]);
    }
    const principal = this.authenticate(call.headers.authorization);
    if (principal === 'missing') return errorReply(401, [UNAUTHENTICATED_MESSAGE]);
    if (principal === 'wrong') {
      if (this.unauthorizedBody === 'text') {
        return {
          status: 401,
          text: CLOUD_UNAUTHORIZED_TEXT,
          headers: {
            'www-authenticate': 'OAuth realm="https%3A%2F%2Fjira-emulator.atlassian.net"',
            'x-seraph-loginreason': 'AUTHENTICATED_FAILED',
          },
        };
      }
      return errorReply(401, [CLOUD_UNAUTHORIZED_TEXT]);
    }
    if (call.method === 'POST' || call.method === 'PUT') {
      const contentType = call.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(contentType)) return { status: 415 };
      if (rawBody.trim() === '' || call.body === undefined) {
        return errorReply(400, [
          rawBody.trim() === ''
            ? 'No content to map due to end-of-input'
            : 'Unexpected character in JSON input',
        ]);
      }
    }
    const param = (name: string) => routed.params[name] ?? '';
    switch (routed.route.operation) {
      case 'createIssue':
        return this.createIssue(call.body, principal);
      case 'getIssue':
        return this.getIssue(param('issueIdOrKey'), call.query);
      case 'getIssuePropertyKeys':
        return this.getPropertyKeys(param('issueIdOrKey'));
      case 'getIssueProperty':
        return this.getProperty(param('issueIdOrKey'), param('propertyKey'));
      case 'setIssueProperty':
        return this.setProperty(param('issueIdOrKey'), param('propertyKey'), call.body, rawBody);
      case 'getComments':
        return this.getComments(param('issueIdOrKey'), call.query);
      case 'getChangeLogs':
        return this.getChangeLogs(param('issueIdOrKey'), call.query);
      case 'addComment':
        return this.addComment(param('issueIdOrKey'), call.body, principal);
      case 'getTransitions':
        return this.getTransitions(param('issueIdOrKey'), call.query);
      case 'doTransition':
        return this.doTransition(param('issueIdOrKey'), call.body, principal);
      case 'searchAndReconsileIssuesUsingJql':
        return this.search({
          jql: first(call.query.jql),
          fields: call.query.fields,
          maxResults: first(call.query.maxResults),
          nextPageToken: first(call.query.nextPageToken),
          reconcileIssues: call.query.reconcileIssues?.flatMap((value) => value.split(',')),
          properties: call.query.properties,
        });
      case 'searchAndReconsileIssuesUsingJqlPost':
        return this.searchPost(call.body);
      case 'getUser':
        return this.getUser(first(call.query.accountId));
      case 'getCurrentUser':
        return {
          status: 200,
          body: this.userObject(this.users.get(principal.accountId) ?? this.appUser, true),
        };
      case 'searchForIssuesUsingJql':
      case 'searchForIssuesUsingJqlPost':
        return errorReply(410, [SEARCH_REMOVED_MESSAGE]);
    }
  }

  private authenticate(header: string | undefined): Principal | 'missing' | 'wrong' {
    if (!header) return 'missing';
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'wrong';
      const email = decoded.slice(0, colon);
      const token = decoded.slice(colon + 1);
      const ok = email.toLowerCase() === this.appUser.emailAddress.toLowerCase() && token === this.apiToken;
      return ok ? { accountId: this.appUser.accountId } : 'wrong';
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer?.[1]) {
      return this.accessToken !== undefined && bearer[1] === this.accessToken
        ? { accountId: this.appUser.accountId }
        : 'wrong';
    }
    return 'wrong';
  }

  private takeFailure(call: RecordedJiraCall): JiraFailure | undefined {
    const index = this.failures.findIndex(({ matcher }) =>
      matcher === '*' ? true : typeof matcher === 'function' ? matcher(call) : matcher === call.operation,
    );
    const pending = this.failures[index];
    if (!pending) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.failures.splice(index, 1);
    return pending.failure;
  }

  // ---- issues ------------------------------------------------------------------------------

  private createIssue(body: unknown, principal: Principal): Reply {
    if (!isRecord(body) || !isRecord(body.fields)) {
      return errorReply(400, [], { fields: 'Field "fields" is required.' });
    }
    const fields = body.fields;
    const errors: Record<string, string> = {};
    for (const name of Object.keys(fields)) {
      if (!SETTABLE_FIELDS.has(name)) {
        errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
      }
    }
    if (body.update !== undefined && !(isRecord(body.update) && Object.keys(body.update).length === 0)) {
      errors.update = 'The emulator does not take `update` operations on create; use `fields`.';
    }
    if (body.transition !== undefined)
      errors.transition = 'The emulator does not take a transition on create.';

    const project = this.projectFrom(fields.project);
    if (!project) errors.project = 'Specify a valid project ID or key';
    let issueType: IssueTypeRecord | undefined;
    if (project) {
      issueType = issueTypeFrom(project, fields.issuetype);
      if (!issueType) errors.issuetype = 'Specify a valid issue type';
    }
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim() === '') {
      errors.summary = 'You must specify a summary of the issue.';
    } else if (summary.length > MAX_SUMMARY_LENGTH) {
      errors.summary = `Summary must be less than ${MAX_SUMMARY_LENGTH} characters.`;
    } else if (/[\r\n]/.test(summary)) {
      errors.summary = 'The summary is invalid because it contains newline characters.';
    }
    if (
      fields.description !== undefined &&
      fields.description !== null &&
      !isAdfDocument(fields.description)
    ) {
      errors.description =
        'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    const labels = fields.labels ?? [];
    if (!Array.isArray(labels) || labels.some((label) => typeof label !== 'string')) {
      errors.labels = 'Operation value must be an array of strings';
    } else {
      const bad = labels.find((label: string) => /\s/.test(label));
      const long = labels.find((label: string) => label.length > MAX_LABEL_LENGTH);
      if (bad !== undefined) errors.labels = `The label '${bad}' contains spaces which is invalid.`;
      else if (long !== undefined)
        errors.labels = `The label must not exceed ${MAX_LABEL_LENGTH} characters.`;
    }
    const properties = body.properties ?? [];
    if (
      !Array.isArray(properties) ||
      properties.some((property) => !isRecord(property) || typeof property.key !== 'string')
    ) {
      errors.properties = 'Properties must be a list of {key, value}.';
    }
    if (Object.keys(errors).length > 0) return errorReply(400, [], errors);
    if (!project || !issueType || typeof summary !== 'string') return errorReply(400, ['unreachable']);
    if (!project.permissions.create || !project.permissions.browse) {
      return errorReply(403, ['You do not have permission to create issues in this project.']);
    }
    const issue = this.insertIssue(project, issueType, {
      summary,
      description: fields.description ?? null,
      labels: [...new Set(labels as string[])],
      reporterAccountId: this.appUser.accountId,
    });
    for (const property of properties as { key: string; value: unknown }[]) {
      issue.properties.set(property.key, structuredClone(property.value));
    }
    reindex(issue, this.searchIndexLagMs, this.clock.now());
    if (this.webhooks.wants('jira:issue_created')) {
      this.fire('jira:issue_created', issue, {
        timestamp: issue.created.getTime(),
        webhookEvent: 'jira:issue_created',
        issue_event_type_name: 'issue_created',
        user: this.webhookUser(principal.accountId),
        issue: this.webhookIssue(issue),
      });
    }
    return { status: 201, body: { id: issue.id, key: issue.key, self: this.issueSelf(issue) } };
  }

  private insertIssue(
    project: ProjectRecord,
    issueType: IssueTypeRecord,
    content: { summary: string; description: unknown; labels: string[]; reporterAccountId: string },
  ): IssueRecord {
    const now = this.clock.now();
    const issue: IssueRecord = {
      id: String(this.nextIssueId++),
      key: `${project.key}-${project.nextIssueNumber++}`,
      project,
      issueType,
      summary: content.summary,
      description: structuredClone(content.description),
      labels: content.labels,
      statusName: issueType.workflow.initial,
      reporterAccountId: content.reporterAccountId,
      properties: new Map(),
      comments: [],
      history: [],
      created: now,
      updated: now,
      indexed: undefined,
      pendingIndex: [],
    };
    this.issueStore.set(issue.id, issue);
    return issue;
  }

  private getIssue(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const selected = selectFields(query.fields, 'all');
    if (selected.unknown) return errorReply(400, [], { fields: selected.unknown });
    const body: Record<string, unknown> = {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: this.issueSelf(issue),
      key: issue.key,
      fields: this.fieldsOf(issue, selected.fields),
    };
    const properties = this.requestedProperties(issue.properties, query.properties);
    if (properties) body.properties = properties;
    return { status: 200, body };
  }

  private getPropertyKeys(idOrKey: string): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    return {
      status: 200,
      body: {
        keys: [...issue.properties.keys()].map((key) => ({
          key,
          self: `${this.issueSelf(issue)}/properties/${encodeURIComponent(key)}`,
        })),
      },
    };
  }

  private getProperty(idOrKey: string, rawKey: string): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const key = decodeURIComponent(rawKey);
    if (!issue.properties.has(key))
      return errorReply(404, [`The property with key '${key}' does not exist.`]);
    return { status: 200, body: { key, value: structuredClone(issue.properties.get(key)) } };
  }

  private setProperty(idOrKey: string, rawKey: string, value: unknown, rawBody: string): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const key = decodeURIComponent(rawKey);
    if (key.length > MAX_PROPERTY_KEY_LENGTH) {
      return errorReply(400, [
        `The property key cannot be longer than ${MAX_PROPERTY_KEY_LENGTH} characters.`,
      ]);
    }
    if (Buffer.byteLength(rawBody) > MAX_PROPERTY_VALUE_LENGTH) {
      return errorReply(400, [
        `The property value cannot be longer than ${MAX_PROPERTY_VALUE_LENGTH} bytes.`,
      ]);
    }
    if (!issue.project.permissions.edit) {
      return errorReply(403, ['You do not have permission to edit issues in this project.']);
    }
    const existed = issue.properties.has(key);
    issue.properties.set(key, structuredClone(value));
    issue.updated = this.clock.now();
    reindex(issue, this.searchIndexLagMs, this.clock.now());
    return { status: existed ? 200 : 201 };
  }

  /** The issue's status moves, oldest first, each with its author, as Jira pages a changelog. */
  private getChangeLogs(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const startAt = Number(first(query.startAt) ?? 0);
    const maxResults = Math.min(Number(first(query.maxResults) ?? 100), 100);
    const statuses = issue.issueType.workflow.statuses;
    const values = issue.history.slice(startAt, startAt + maxResults).map((entry) => {
      const author = this.users.get(entry.accountId);
      return {
        id: entry.id,
        author: author ? this.userObject(author, false, true) : { accountId: entry.accountId },
        created: jiraDate(entry.at),
        items: [
          {
            field: 'status',
            fieldtype: 'jira',
            fieldId: 'status',
            from: statuses.get(entry.from)?.id ?? '',
            fromString: entry.from,
            to: statuses.get(entry.to)?.id ?? '',
            toString: entry.to,
          },
        ],
      };
    });
    return {
      status: 200,
      body: {
        self: `${this.issueSelf(issue)}/changelog?startAt=${startAt}&maxResults=${maxResults}`,
        maxResults,
        startAt,
        total: issue.history.length,
        isLast: startAt + values.length >= issue.history.length,
        values,
      },
    };
  }

  private getComments(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const orderBy = first(query.orderBy);
    if (orderBy !== undefined && !['created', '-created', '+created'].includes(orderBy)) {
      return errorReply(400, ['orderBy must be created, -created or +created.']);
    }
    const startAt = Number(first(query.startAt) ?? 0);
    const maxResults = Number(first(query.maxResults) ?? 100);
    const ordered = orderBy === '-created' ? [...issue.comments].reverse() : issue.comments;
    return {
      status: 200,
      body: {
        startAt,
        maxResults,
        total: issue.comments.length,
        comments: ordered
          .slice(startAt, startAt + maxResults)
          .map((comment) => this.commentObject(issue, comment)),
      },
    };
  }

  private addComment(idOrKey: string, body: unknown, principal: Principal): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    if (!isRecord(body) || body.body === undefined || body.body === null || body.body === '') {
      return errorReply(400, [], { comment: 'Comment body can not be empty!' });
    }
    if (!isAdfDocument(body.body)) {
      return errorReply(400, [], {
        comment: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)',
      });
    }
    if (!issue.project.permissions.comment) {
      return errorReply(403, ['You do not have permission to comment on this issue.']);
    }
    const comment = this.insertComment(issue, body.body, principal.accountId);
    return { status: 201, body: this.commentObject(issue, comment) };
  }

  private insertComment(issue: IssueRecord, body: unknown, accountId: string): CommentRecord {
    const comment: CommentRecord = {
      id: String(this.nextCommentId++),
      body: structuredClone(body),
      authorAccountId: accountId,
      created: this.clock.now(),
    };
    issue.comments.push(comment);
    issue.updated = comment.created;
    reindex(issue, this.searchIndexLagMs, this.clock.now());
    const timestamp = comment.created.getTime();
    if (this.webhooks.wants('jira:issue_updated')) {
      this.fire('jira:issue_updated', issue, {
        timestamp,
        webhookEvent: 'jira:issue_updated',
        issue_event_type_name: 'issue_commented',
        user: this.webhookUser(accountId),
        issue: this.webhookIssue(issue),
        comment: this.webhookComment(issue, comment),
      });
    }
    if (this.webhooks.wants('comment_created')) {
      // Jira puts no `user` on comment events: the author is the comment's.
      this.fire('comment_created', issue, {
        timestamp,
        webhookEvent: 'comment_created',
        comment: this.webhookComment(issue, comment),
        issue: this.webhookIssue(issue, ['summary', 'issuetype', 'project', 'status']),
      });
    }
    return comment;
  }

  private getTransitions(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    // Without the Transition issues permission Jira lists no transitions rather than refusing.
    const available = issue.project.permissions.transition ? this.availableTransitions(issue) : [];
    const wanted = first(query.transitionId);
    const listed =
      wanted === undefined ? available : available.filter((transition) => transition.id === wanted);
    const workflow = issue.issueType.workflow;
    return {
      status: 200,
      body: {
        expand: 'transitions',
        transitions: listed.map((transition) => ({
          id: transition.id,
          name: transition.name,
          to: this.statusObject(workflow.statuses.get(transition.to)),
          hasScreen: false,
          isGlobal: transition.from === 'any',
          isInitial: false,
          isAvailable: true,
          isConditional: false,
          isLooped: false,
        })),
      },
    };
  }

  private doTransition(idOrKey: string, body: unknown, principal: Principal): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const transition = isRecord(body) && isRecord(body.transition) ? body.transition : undefined;
    const id = transition?.id;
    if (id === undefined || id === null || id === '') {
      return errorReply(400, ["Missing 'transition' identifier"]);
    }
    if (!issue.project.permissions.transition) {
      return errorReply(400, ['You do not have permission to transition this issue.']);
    }
    const chosen = this.availableTransitions(issue).find((candidate) => candidate.id === String(id));
    if (!chosen) return errorReply(400, [`Transition id '${String(id)}' is not valid for this issue.`]);
    this.applyTransition(issue, chosen, principal.accountId);
    return { status: 204 };
  }

  /** Moves the issue, records who did it, and tells the webhooks, whoever asked (API or UI). */
  private applyTransition(issue: IssueRecord, transition: TransitionRecord, accountId: string): void {
    const workflow = issue.issueType.workflow;
    const from = issue.statusName;
    issue.statusName = transition.to;
    issue.updated = this.clock.now();
    const changelogId = String(this.nextChangelogId++);
    issue.history.push({
      id: changelogId,
      transitionId: transition.id,
      from,
      to: transition.to,
      at: issue.updated,
      accountId,
    });
    reindex(issue, this.searchIndexLagMs, this.clock.now());
    if (!this.webhooks.wants('jira:issue_updated')) return;
    const fromStatus = workflow.statuses.get(from);
    const toStatus = workflow.statuses.get(transition.to);
    this.fire('jira:issue_updated', issue, {
      timestamp: issue.updated.getTime(),
      webhookEvent: 'jira:issue_updated',
      // A workflow transition without an event of its own fires Jira's Generic Event.
      issue_event_type_name: 'issue_generic',
      user: this.webhookUser(accountId),
      issue: this.webhookIssue(issue),
      changelog: {
        id: changelogId,
        items: [
          {
            field: 'status',
            fieldtype: 'jira',
            fieldId: 'status',
            from: fromStatus?.id ?? '',
            fromString: from,
            to: toStatus?.id ?? '',
            toString: transition.to,
          },
        ],
      },
    });
  }

  private availableTransitions(issue: IssueRecord): TransitionRecord[] {
    return issue.issueType.workflow.transitions.filter((transition) =>
      transition.from === 'any' ? transition.to !== issue.statusName : transition.from.has(issue.statusName),
    );
  }

  // ---- search --------------------------------------------------------------------------------

  private searchPost(body: unknown): Reply {
    if (!isRecord(body)) return errorReply(400, ['The request body must be a JSON object.']);
    const known = new Set([
      'jql',
      'fields',
      'maxResults',
      'nextPageToken',
      'expand',
      'properties',
      'fieldsByKeys',
      'reconcileIssues',
    ]);
    const unknown = Object.keys(body).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      return errorReply(400, [`Unrecognized field "${unknown[0]}" in the search request.`]);
    }
    const stringList = (value: unknown) =>
      Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
    return this.search({
      jql: typeof body.jql === 'string' ? body.jql : undefined,
      fields: stringList(body.fields),
      maxResults: body.maxResults === undefined ? undefined : String(body.maxResults),
      nextPageToken: typeof body.nextPageToken === 'string' ? body.nextPageToken : undefined,
      reconcileIssues: Array.isArray(body.reconcileIssues) ? body.reconcileIssues.map(String) : undefined,
      properties: stringList(body.properties),
    });
  }

  private search(request: {
    jql: string | undefined;
    fields: string[] | undefined;
    maxResults: string | undefined;
    nextPageToken: string | undefined;
    reconcileIssues: string[] | undefined;
    properties: string[] | undefined;
  }): Reply {
    const jql = request.jql ?? '';
    let query: JqlQuery;
    try {
      query = parseJql(jql);
    } catch (error) {
      return errorReply(400, [error instanceof Error ? error.message : String(error)]);
    }
    if (query.clauses.length === 0) {
      return errorReply(400, [
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      ]);
    }
    const problem = clauseProblem(
      query.clauses,
      this.indexedProperties,
      (value) => this.projectByReference(value) !== undefined,
    );
    if (problem) return errorReply(400, [problem]);

    const selected = selectFields(request.fields, 'id');
    if (selected.unknown) return errorReply(400, [selected.unknown]);
    const idsOnly = selected.fields.length === 0;
    const limit = idsOnly ? MAX_RESULTS_IDS_ONLY : MAX_RESULTS_WITH_FIELDS;
    const requested = request.maxResults === undefined ? DEFAULT_MAX_RESULTS : Number(request.maxResults);
    if (!Number.isInteger(requested) || requested < 0) {
      return errorReply(400, [`'${request.maxResults}' is not a valid value for maxResults.`]);
    }
    const pageSize = Math.min(requested, limit);
    const reconcile = new Set(request.reconcileIssues ?? []);
    if (reconcile.size > MAX_RECONCILE_ISSUES) {
      return errorReply(400, [`reconcileIssues accepts at most ${MAX_RECONCILE_ISSUES} issue ids.`]);
    }

    settleIndex(this.issueStore.values(), this.clock.now());
    const views: { view: IndexedView; issue: IssueRecord }[] = [];
    for (const issue of this.issueStore.values()) {
      if (!issue.project.permissions.browse) continue;
      // reconcileIssues trades the index for a read of the issue itself: read-after-write for those ids.
      const view = reconcile.has(issue.id) ? viewOf(issue) : issue.indexed;
      if (view && query.clauses.every((clause) => matchesClause(clause, view))) views.push({ view, issue });
    }
    views.sort((a, b) => compareViews(a.view, b.view, query.orderBy));

    const fingerprint = createHash('sha256').update(jql).digest('base64url').slice(0, 12);
    let offset = 0;
    if (request.nextPageToken !== undefined) {
      const decoded = decodePageToken(request.nextPageToken);
      if (!decoded || decoded.fingerprint !== fingerprint) {
        return errorReply(400, ['The provided next page token is invalid or expired.']);
      }
      offset = decoded.offset;
    }
    const page = views.slice(offset, offset + pageSize);
    const nextOffset = offset + page.length;
    const isLast = nextOffset >= views.length;
    const body: Record<string, unknown> = {
      issues: page.map(({ issue }) => {
        if (idsOnly) return { id: issue.id };
        const entry: Record<string, unknown> = {
          expand: '',
          id: issue.id,
          self: this.issueSelf(issue),
          key: issue.key,
          fields: this.fieldsOf(issue, selected.fields),
        };
        const properties = this.requestedProperties(issue.properties, request.properties);
        if (properties) entry.properties = properties;
        return entry;
      }),
      isLast,
    };
    if (!isLast) body.nextPageToken = encodePageToken({ offset: nextOffset, fingerprint });
    return { status: 200, body };
  }

  // ---- users -------------------------------------------------------------------------------

  private getUser(accountId: string | undefined): Reply {
    if (!accountId) return errorReply(400, ['The query parameter accountId is required.']);
    const user = this.users.get(accountId);
    if (!user)
      return errorReply(404, ['Specified user does not exist or you do not have required permissions']);
    return { status: 200, body: this.userObject(user, user.emailVisible === true) };
  }

  /**
   * A user as /user and /myself return it (`User`), or, with `embedded`, as it appears inside an
   * issue or comment (`UserDetails`, which has no locale).
   */
  private userObject(user: JiraUserFixture, withEmail: boolean, embedded = false): Record<string, unknown> {
    const avatar = (size: number) =>
      `${this.url}/secure/useravatar?size=${size}&accountId=${encodeURIComponent(user.accountId)}`;
    const body: Record<string, unknown> = {
      self: `${this.url}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
      accountId: user.accountId,
      accountType: user.accountType ?? 'atlassian',
      avatarUrls: { '16x16': avatar(16), '24x24': avatar(24), '32x32': avatar(32), '48x48': avatar(48) },
      displayName: user.displayName,
      active: user.active ?? true,
      timeZone: user.timeZone ?? 'Etc/UTC',
    };
    if (!embedded) body.locale = 'en_US';
    if (withEmail && user.emailAddress) body.emailAddress = user.emailAddress;
    return body;
  }

  // ---- representations -----------------------------------------------------------------------

  private fieldsOf(issue: IssueRecord, fields: IssueField[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      switch (field) {
        case 'summary':
          out.summary = issue.summary;
          break;
        case 'description':
          out.description = structuredClone(issue.description);
          break;
        case 'labels':
          out.labels = [...issue.labels];
          break;
        case 'status':
          out.status = this.statusObject(issue.issueType.workflow.statuses.get(issue.statusName));
          break;
        case 'issuetype':
          out.issuetype = {
            self: `${this.url}/rest/api/3/issuetype/${issue.issueType.id}`,
            id: issue.issueType.id,
            name: issue.issueType.name,
            description: '',
            subtask: false,
            hierarchyLevel: 0,
          };
          break;
        case 'project':
          out.project = {
            self: `${this.url}/rest/api/3/project/${issue.project.id}`,
            id: issue.project.id,
            key: issue.project.key,
            name: issue.project.name,
            projectTypeKey: 'software',
            simplified: false,
          };
          break;
        case 'created':
          out.created = jiraDate(issue.created);
          break;
        case 'updated':
          out.updated = jiraDate(issue.updated);
          break;
        case 'reporter':
        case 'creator': {
          const user = this.users.get(issue.reporterAccountId);
          out[field] = user ? this.userObject(user, false, true) : null;
          break;
        }
        case 'comment':
          out.comment = {
            comments: issue.comments.map((comment) => this.commentObject(issue, comment)),
            self: `${this.issueSelf(issue)}/comment`,
            maxResults: issue.comments.length,
            total: issue.comments.length,
            startAt: 0,
          };
          break;
      }
    }
    return out;
  }

  private statusObject(status: StatusRecord | undefined): Record<string, unknown> {
    if (!status) return {};
    const category = STATUS_CATEGORIES[status.category];
    return {
      self: `${this.url}/rest/api/3/status/${status.id}`,
      description: '',
      iconUrl: `${this.url}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: { self: `${this.url}/rest/api/3/statuscategory/${category.id}`, ...category },
    };
  }

  private commentObject(issue: IssueRecord, comment: CommentRecord): Record<string, unknown> {
    const author = this.users.get(comment.authorAccountId);
    const authorObject = author
      ? this.userObject(author, false, true)
      : { accountId: comment.authorAccountId };
    return {
      self: `${this.issueSelf(issue)}/comment/${comment.id}`,
      id: comment.id,
      author: authorObject,
      body: structuredClone(comment.body),
      updateAuthor: authorObject,
      created: jiraDate(comment.created),
      updated: jiraDate(comment.created),
      jsdPublic: true,
    };
  }

  private requestedProperties(
    properties: Map<string, unknown>,
    requested: string[] | undefined,
  ): Record<string, unknown> | undefined {
    const keys = requested?.flatMap((value) => value.split(',')).map((key) => key.trim()) ?? [];
    if (keys.length === 0) return undefined;
    const all = keys.includes('*all');
    const out: Record<string, unknown> = {};
    for (const [key, value] of properties) if (all || keys.includes(key)) out[key] = structuredClone(value);
    return out;
  }

  private issueSelf(issue: IssueRecord): string {
    return `${this.url}/rest/api/3/issue/${issue.id}`;
  }

  // ---- webhook payloads ------------------------------------------------------------------------

  private fire(event: JiraWebhookEvent, issue: IssueRecord, payload: Record<string, unknown>): void {
    this.webhooks.emit(event, payload, issue.key);
  }

  /**
   * Webhooks carry the REST v2 representation, as Jira Cloud's do: `self` links under
   * /rest/api/2 and rich text (description, comment bodies) as wiki-markup strings, not ADF.
   */
  private webhookIssue(
    issue: IssueRecord,
    fields: IssueField[] = [...ISSUE_FIELDS],
  ): Record<string, unknown> {
    const out = this.fieldsOf(issue, fields);
    if ('description' in out)
      out.description = issue.description === null ? null : adfToWiki(issue.description);
    if (isRecord(out.comment) && Array.isArray(out.comment.comments)) {
      out.comment.comments = issue.comments.map((comment) => this.webhookComment(issue, comment));
    }
    return asRestV2({ id: issue.id, self: this.issueSelf(issue), key: issue.key, fields: out }) as Record<
      string,
      unknown
    >;
  }

  private webhookComment(issue: IssueRecord, comment: CommentRecord): Record<string, unknown> {
    const object = this.commentObject(issue, comment);
    object.body = adfToWiki(comment.body);
    return asRestV2(object) as Record<string, unknown>;
  }

  /** The user who made the change, as webhooks embed it: no email, no locale. */
  private webhookUser(accountId: string): Record<string, unknown> {
    const user = this.users.get(accountId);
    return asRestV2(user ? this.userObject(user, false, true) : { accountId }) as Record<string, unknown>;
  }

  private person(accountId: string): JiraUserFixture {
    const user = this.users.get(accountId);
    if (!user) throw new Error(`jira emulator: no user with accountId ${accountId}`);
    if (user.active === false) throw new Error(`jira emulator: ${user.displayName} is deactivated`);
    return user;
  }

  private snapshot(issue: IssueRecord): JiraIssueSnapshot {
    return structuredClone({
      id: issue.id,
      key: issue.key,
      projectKey: issue.project.key,
      issueType: issue.issueType.name,
      summary: issue.summary,
      description: issue.description,
      labels: issue.labels,
      status: issue.statusName,
      reporterAccountId: issue.reporterAccountId,
      properties: Object.fromEntries(issue.properties),
      comments: issue.comments,
      history: issue.history,
      created: issue.created,
      updated: issue.updated,
    });
  }

  // ---- lookups --------------------------------------------------------------------------------

  /** By id or key; keys case-insensitively, as Jira does. */
  private findIssue(idOrKey: string): IssueRecord | undefined {
    const decoded = decodeURIComponent(idOrKey);
    const byId = this.issueStore.get(decoded);
    if (byId) return byId;
    const upper = decoded.toUpperCase();
    for (const issue of this.issueStore.values()) if (issue.key === upper) return issue;
    return undefined;
  }

  /** Jira answers "does not exist" for issues the caller may not browse, so the two look alike. */
  private visibleIssue(idOrKey: string): IssueRecord | undefined {
    const issue = this.findIssue(idOrKey);
    return issue && issue.project.permissions.browse ? issue : undefined;
  }

  private projectFrom(reference: unknown): ProjectRecord | undefined {
    if (!isRecord(reference)) return undefined;
    if (typeof reference.key === 'string') return this.projects.get(reference.key);
    if (typeof reference.id === 'string' || typeof reference.id === 'number') {
      return [...this.projects.values()].find((project) => project.id === String(reference.id));
    }
    return undefined;
  }

  private projectByReference(value: string): ProjectRecord | undefined {
    const lower = value.toLowerCase();
    return [...this.projects.values()].find(
      (project) =>
        project.key.toLowerCase() === lower || project.id === value || project.name.toLowerCase() === lower,
    );
  }
}

export async function startJiraEmulator(options: JiraEmulatorOptions = {}): Promise<JiraEmulator> {
  const emulator = new JiraEmulator(options);
  await emulator.start();
  return emulator;
}

// ---- helpers -------------------------------------------------------------------------------

/**
 * Which fields a `fields` parameter asks for: comma-separated names, `*all`, `*navigable`, `-name`
 * to drop one. `id` alone means none, which is what /search/jql defaults to.
 */
function selectFields(
  requested: string[] | undefined,
  fallback: 'all' | 'id',
): { fields: IssueField[]; unknown?: string } {
  const names = (requested ?? [])
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return { fields: fallback === 'all' ? [...ISSUE_FIELDS] : [] };
  const chosen = new Set<IssueField>();
  const isField = (name: string): name is IssueField => (ISSUE_FIELDS as readonly string[]).includes(name);
  for (const name of names) {
    if (name === '*all' || name === '*navigable') ISSUE_FIELDS.forEach((field) => chosen.add(field));
    else if (name === 'id' || name === 'key') continue;
    else if (name.startsWith('-')) {
      const dropped = name.slice(1);
      if (isField(dropped)) chosen.delete(dropped);
    } else if (isField(name)) chosen.add(name);
    // Jira ignores field names it does not know in `fields`; so does the emulator.
  }
  return { fields: [...chosen] };
}

function issueTypeFrom(project: ProjectRecord, reference: unknown): IssueTypeRecord | undefined {
  if (!isRecord(reference)) return undefined;
  if (typeof reference.id === 'string' || typeof reference.id === 'number') {
    return project.issueTypes.find((type) => type.id === String(reference.id));
  }
  if (typeof reference.name === 'string') {
    return project.issueTypes.find((type) => type.name === reference.name);
  }
  return undefined;
}

/** Jira's timestamp format: milliseconds and a +hhmm offset without a colon. */
function jiraDate(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

function first(values: string[] | undefined): string | undefined {
  return values?.[0];
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
