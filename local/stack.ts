import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2, SNSEvent } from 'aws-lambda';
import { type AckOverrides, createAckHandler } from '../lambdas/ack/wiring.js';
import { createJiraWebhookHandler, type JiraWebhookOverrides } from '../lambdas/jira-webhook/wiring.js';
import { createWorkerHandler, type WorkerOverrides } from '../lambdas/worker/wiring.js';
import { DynamoDbRequestStore } from '../shared/adapters/dynamodb/dynamodb-request-store.js';
import { createRequestTable } from '../shared/adapters/dynamodb/request-table.js';
import { SnsEventPublisher } from '../shared/adapters/sns/sns-event-publisher.js';
import {
  attributesOf,
  parseTopicCommand,
  reconcileCommand,
  type TopicCommand,
} from '../shared/messages/commands.js';
import type { Clock } from '../shared/ports/clock.js';
import type { EventPublisher } from '../shared/ports/event-publisher.js';
import { vaultCall } from '../bin/vault-http.js';
import {
  applyVaultSync,
  formatPlan,
  planVaultSync,
  suggestedTemplate,
  WORKER_POLICY,
} from '../bin/vault-sync.js';
import { vaultRoleName } from '../shared/adapters/vault/vault-names.js';
import type { Catalog } from '../shared/config/catalog-schema.js';
import { loadCatalogFile } from '../shared/config/load-catalog.js';
import { FLAVORS, type ServerFlavor } from '../shared/config/server-flavors.js';
import type { ActiveDirectoryConnection } from './active-directory.js';
import { startVaultEmulator, type VaultEmulator } from './emulators/vault/vault-emulator.js';
import { type SchedulerEmulator, startSchedulerEmulator } from './emulators/scheduler/scheduler-emulator.js';
import type { MariaDbConnection } from './mariadb.js';
import { startDynalite } from './dynalite.js';
import { JiraEmulator, type JiraEmulatorOptions } from './emulators/jira/jira-emulator.js';
import type { LoopbackServer } from './emulators/loopback-server.js';
import { SlackEmulator, type SlackEmulatorOptions } from './emulators/slack/slack-emulator.js';
import { snsLambdaEvent } from './emulators/sns/lambda-event.js';
import { SnsEmulator } from './emulators/sns/sns-emulator.js';
import { serveFunctionUrl, serveFunctionUrls } from './function-url.js';
import { InProcessTopic, type InProcessTopicOptions } from './in-process-topic.js';
import { type SlackRequest, toLambdaEvent } from './slack/signed-request.js';

/*
 * The whole of jit-access on one machine: the three real Lambda handlers, built by their own
 * wiring from an environment as in AWS, joined by a topic, talking to the Slack and Jira
 * emulators, dynalite and a real Samba AD (or, for `npm run dev`, the real services). Tests,
 * benches, the dev server and the demo start this instead of wiring the Lambdas themselves.
 */

export type WorkerHandler = ReturnType<typeof createWorkerHandler>;
export type AckHandler = ReturnType<typeof createAckHandler>;
export type JiraWebhookHandler = ReturnType<typeof createJiraWebhookHandler>;

export interface LocalStackOptions {
  /**
   * A running Samba AD (startActiveDirectory; the test run's global setup starts one per run):
   * booting a domain takes seconds, so its owner starts it once and stacks share it.
   */
  readonly directory?: ActiveDirectoryConnection;
  /**
   * A running MariaDB (the test run's global setup starts one per run): the server the catalog's
   * databases point at, on which Vault creates and drops the temporary users.
   */
  readonly database?: MariaDbConnection;
  /**
   * The catalog's YAML, from the directory (for its group DNs) and the database (host and port);
   * or the path of a catalog file of one's own (`npm run dev` with a real directory or Vault).
   */
  readonly catalog:
    ((ad: ActiveDirectoryConnection, db: MariaDbConnection) => string) | { readonly path: string };
  /**
   * Real services in place of emulators (`npm run dev` with a `.env`): each replaces its
   * emulator's settings in the Lambdas' environments. A real `ldap` needs no `directory`, a real
   * `vault` no `database`; both then need a catalog file of one's own.
   */
  readonly connect?: RealConnectors;
  /** Each request to the front door, once answered (`npm run dev` prints them). */
  readonly onFrontDoorRequest?: (request: FrontDoorRequest) => void;
  readonly slack: Omit<SlackEmulatorOptions, 'clock'>;
  readonly jira?: Omit<JiraEmulatorOptions, 'clock'>;
  /** Injected into every handler and emulator; tests move it instead of sleeping. */
  readonly clock?: Clock;
  /** A logger per Lambda (`ack`, `jira-webhook`, `worker`); default Powertools at ERROR. */
  readonly logger?: (service: 'ack' | 'jira-webhook' | 'worker') => Logger;
  /**
   * `in-process` (default): the commands stay in this process. `sns`: the ack and jira-webhook
   * Lambdas publish through their real SNS client to the SNS emulator over HTTP.
   */
  readonly topic?: 'in-process' | 'sns';
  /** Lambda's asynchronous retries of a worker invocation that threw (2 in AWS). */
  readonly redeliverOnError?: number;
  /** Where the Lambdas count what operators alarm on; default Powertools Metrics. */
  readonly metrics?: Metrics;
  /**
   * Publishes `reconcile` this often (real milliseconds), as the EventBridge rule does every few
   * minutes in AWS; off when not given (tests publish it when they mean it).
   */
  readonly reconcileEveryMs?: number;
  /** The front door's loopback port (`npm run dev` fixes one); a free one when not given. */
  readonly port?: number;
  /**
   * How the in-process topic delivers: each command `duplicates` extra times, and in an order
   * shuffled within each burst — the at-least-once, unordered delivery SNS and Lambda give.
   */
  readonly delivery?: InProcessTopicOptions['delivery'];
}

export interface RealConnectors {
  readonly slack?: { readonly botToken: string; readonly signingSecret: string; readonly apiUrl?: string };
  readonly jira?: {
    readonly baseUrl: string;
    readonly email: string;
    readonly apiToken: string;
    readonly webhookSecret: string;
  };
  readonly vault?: { readonly address: string; readonly token: string };
  /** The worker's LDAP_* settings (lambdas/worker/config.ts), as they would be in AWS. */
  readonly ldap?: Readonly<Record<string, string>>;
}

export interface FrontDoorRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
}

/** Where the stack's front door takes requests, as the Function URLs do in AWS. */
export interface StackUrls {
  /** The Slack app's slash command Request URL (the ack Lambda). */
  readonly slackCommands: string;
  /** The Slack app's Interactivity Request URL (the ack Lambda). */
  readonly slackInteractivity: string;
  /** The Jira webhook's URL (the jira-webhook Lambda). */
  readonly jiraWebhook: string;
}

/** The access topic as the stack's users see it, whichever carries it. */
export interface StackTopic {
  readonly arn: string;
  /** Publishes as the ack and jira-webhook Lambdas do. */
  publish(command: TopicCommand): Promise<void>;
  /** Every command accepted since the last reset, in order. */
  published(): TopicCommand[];
  /** Worker invocations that threw since the last reset, retried ones included. */
  failedAttempts(): unknown[];
  /** Resolves once every delivery in flight, and what it published meanwhile, has settled. */
  drain(): Promise<void>;
  subscribe(handler: (event: SNSEvent) => Promise<void>, options?: { redeliverOnError?: number }): () => void;
  reset(): void;
}

export interface LocalStack {
  /** The clock every handler and emulator reads. */
  readonly clock: Clock;
  /** The Samba AD the worker asks; undefined with a real directory. */
  readonly ad: ActiveDirectoryConnection | undefined;
  /** The MariaDB the emulated Vault runs its statements on; undefined with a real Vault. */
  readonly db: MariaDbConnection | undefined;
  /** The Vault emulator, configured by `jit-access vault sync` from the catalog. */
  readonly vault: VaultEmulator;
  /**
   * EventBridge Scheduler, emulated: the worker's real Scheduler client creates expiry schedules
   * in it; `fireDue()` publishes those due by the stack's clock to the topic.
   */
  readonly scheduler: SchedulerEmulator;
  readonly slack: SlackEmulator;
  readonly jira: JiraEmulator;
  readonly topic: StackTopic;
  readonly catalogPath: string;
  /** dynalite's endpoint, for a DynamoDB client of a test's own. */
  readonly dynamoEndpoint: string;
  readonly signingSecret: string;
  readonly webhookSecret: string;
  /** The ack Lambda, built once: a warm container. */
  readonly ack: AckHandler;
  /** The jira-webhook Lambda the Jira emulator's webhook reaches over HTTP. */
  readonly jiraWebhook: JiraWebhookHandler;
  /** The front door: Slack's and Jira's requests over HTTP on loopback, to the same handlers. */
  readonly urls: StackUrls;
  /** The table the subscribed worker uses; reset() makes a new one. */
  readonly tableName: string;
  readonly env: {
    readonly ack: Readonly<Record<string, string>>;
    readonly jiraWebhook: Readonly<Record<string, string>>;
    readonly worker: Readonly<Record<string, string>>;
  };
  /** The requests table as the worker sees it. */
  store(): DynamoDbRequestStore;
  /** A new ack container, with overrides. */
  ackWith(overrides?: AckOverrides): AckHandler;
  /** A new jira-webhook container (nothing cached yet), with overrides. */
  jiraWebhookWith(overrides?: JiraWebhookOverrides): JiraWebhookHandler;
  /** A new worker container on the current table, with port or environment overrides. */
  worker(overrides?: WorkerOverrides, env?: Readonly<Record<string, string>>): WorkerHandler;
  /** Subscribes `handler` (a fresh default worker when omitted) in place of the current one. */
  subscribeWorker(handler?: WorkerHandler, options?: { redeliverOnError?: number }): void;
  /** The SNSEvent Lambda hands the worker for one command, to invoke a worker directly. */
  snsEvent(command: TopicCommand): SNSEvent;
  /** A Slack request, signed with the app's secret at the clock's time, as a Function URL event. */
  signed<T>(request: SlackRequest<T>): APIGatewayProxyEventV2;
  /** Plays out every topic message and Jira webhook, and what they cause, until all is quiet. */
  settle(): Promise<void>;
  /** Publishes `reconcile` every `everyMs` until the returned function (or stop()) ends it. */
  startPeriodicReconcile(everyMs: number): () => void;
  /** Sends the Jira webhooks `act` causes to a capture instead of the handler; returns their bodies. */
  captureWebhooks(act: () => unknown): Promise<string[]>;
  /** Emulators and topic emptied, a new table, a fresh worker subscribed: a test starts from nothing. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The emulated Slack app's signing secret: a fixed local value, so a developer can sign with it. */
export const LOCAL_SIGNING_SECRET = 'local-stack-signing-secret-0123456789';
const WEBHOOK_SECRET = 'local-stack-webhook-secret-0123456789';
const REGION = 'us-east-1';
// What the SDK clients inside the Lambdas read, as Lambda's environment provides it in AWS.
const AWS_ENVIRONMENT = [
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SNS',
  'AWS_ENDPOINT_URL_SCHEDULER',
  'AWS_REGION',
] as const;
const SCHEDULE_GROUP = 'jit-access';
const SCHEDULER_ROLE = 'arn:aws:iam::000000000000:role/jit-access-scheduler';
const AWS_CREDENTIALS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const clock = options.clock ?? { now: () => new Date() };
  const logger =
    options.logger ??
    ((service: string) => new Logger({ serviceName: `jit-access-${service}`, logLevel: 'ERROR' }));
  const redeliverOnError = options.redeliverOnError ?? 2;
  const stops: (() => Promise<unknown> | void)[] = [];
  const stopAll = async () => {
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
  };

  try {
    const ad = options.directory;
    const dynamo = await startDynalite();
    stops.push(() => dynamo.stop());

    const db = options.database;
    const vault = await startVaultEmulator({ clock });
    stops.push(() => vault.stop());
    const slack = new SlackEmulator({ ...options.slack, clock });
    const jira = new JiraEmulator({ webhookDelivery: 'manual', ...options.jira, clock });
    const sns = options.topic === 'sns' ? new SnsEmulator({ region: REGION }) : undefined;
    await Promise.all([slack.start(), jira.start(), sns?.start()]);
    stops.push(
      () => slack.stop(),
      () => jira.stop(),
    );
    if (sns) stops.push(() => sns.stop());

    const saved = Object.fromEntries(
      [...AWS_ENVIRONMENT, ...AWS_CREDENTIALS].map((k) => [k, process.env[k]]),
    );
    stops.push(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...(sns ? { AWS_ENDPOINT_URL_SNS: sns.url } : {}),
    });

    const real = options.connect ?? {};
    let catalogPath: string;
    if ('path' in options.catalog) {
      catalogPath = options.catalog.path;
    } else {
      if (!ad || !db)
        throw new Error('local stack: a generated catalog needs the directory and the database it points at');
      const catalogDir = mkdtempSync(join(tmpdir(), 'jit-stack-'));
      stops.push(() => rmSync(catalogDir, { recursive: true, force: true }));
      catalogPath = join(catalogDir, 'jit-access.config.yaml');
      writeFileSync(catalogPath, options.catalog(ad, db));
    }
    let vaultSettings: { VAULT_ADDR: string; VAULT_TOKEN: string };
    if (real.vault) {
      vaultSettings = { VAULT_ADDR: real.vault.address, VAULT_TOKEN: real.vault.token };
    } else {
      if (!db) throw new Error('local stack: the emulated Vault needs a database (or connect a real Vault)');
      vaultSettings = {
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: await configureVault(vault, db, loadCatalogFile(catalogPath)),
      };
    }
    let ldapSettings: Readonly<Record<string, string>>;
    if (real.ldap) {
      ldapSettings = real.ldap;
    } else {
      if (!ad) throw new Error('local stack: give it a directory (or connect a real one)');
      ldapSettings = {
        LDAP_URL: ad.ldapsUrl,
        LDAP_SECURITY: 'ldaps',
        LDAP_CA_CERT: readFileSync(ad.caCertPath, 'utf8'),
        LDAP_TLS_SERVER_NAME: ad.tlsServerName,
        LDAP_BIND_DN: ad.serviceAccount.dn,
        LDAP_BIND_PASSWORD: ad.serviceAccount.password,
        LDAP_BASE_DN: ad.baseDn,
      };
    }
    const slackSettings = real.slack
      ? {
          SLACK_BOT_TOKEN: real.slack.botToken,
          ...(real.slack.apiUrl ? { SLACK_API_URL: real.slack.apiUrl } : {}),
        }
      : { SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl };
    const signingSecret = real.slack?.signingSecret ?? LOCAL_SIGNING_SECRET;
    const jiraSettings = real.jira
      ? { JIRA_EMAIL: real.jira.email, JIRA_API_TOKEN: real.jira.apiToken, JIRA_BASE_URL: real.jira.baseUrl }
      : {
          JIRA_EMAIL: jira.credentials.email,
          JIRA_API_TOKEN: jira.credentials.apiToken,
          JIRA_BASE_URL: jira.url,
        };
    const webhookSecret = real.jira?.webhookSecret ?? WEBHOOK_SECRET;

    const inProcess = sns
      ? undefined
      : new InProcessTopic({ region: REGION, ...(options.delivery ? { delivery: options.delivery } : {}) });
    const topic: StackTopic = sns ? snsTopic(sns) : inProcessTopic(inProcess!);
    const scheduler = await startSchedulerEmulator({
      clock,
      region: REGION,
      groups: [SCHEDULE_GROUP],
      // Scheduler publishes the schedule's Input to the topic with its role.
      deliver: (arn, input) => {
        if (arn !== topic.arn) throw new Error(`local stack: a schedule targets ${arn}, not the topic`);
        return topic.publish(parseTopicCommand(input));
      },
    });
    stops.push(() => scheduler.stop());
    process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduler.url;
    // The in-process topic is handed to the Lambdas as their publisher; with `sns` they build
    // their own SNS client from the environment, as in AWS.
    const publisher: { publisher?: EventPublisher } = inProcess ? { publisher: inProcess } : {};

    const ackEnv = {
      SLACK_SIGNING_SECRET: signingSecret,
      ...slackSettings,
      ACCESS_TOPIC_ARN: topic.arn,
      JIT_ACCESS_CONFIG: catalogPath,
    };
    const jiraWebhookEnv = {
      JIRA_WEBHOOK_SECRET: webhookSecret,
      ...jiraSettings,
      ACCESS_TOPIC_ARN: topic.arn,
      JIT_ACCESS_CONFIG: catalogPath,
    };
    const workerEnv: Record<string, string> = {
      ...slackSettings,
      ...ldapSettings,
      ...jiraSettings,
      JIT_ACCESS_CONFIG: catalogPath,
      ...vaultSettings,
      ACCESS_TOPIC_ARN: topic.arn,
      EXPIRY_SCHEDULE_GROUP: SCHEDULE_GROUP,
      EXPIRY_SCHEDULER_ROLE_ARN: SCHEDULER_ROLE,
      REQUESTS_TABLE: '',
    };

    const ackWith = (overrides: AckOverrides = {}) =>
      createAckHandler(ackEnv, { clock, logger: logger('ack'), ...publisher, ...overrides });
    const jiraWebhookWith = (overrides: JiraWebhookOverrides = {}) =>
      createJiraWebhookHandler(jiraWebhookEnv, {
        clock,
        logger: logger('jira-webhook'),
        ...publisher,
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...overrides,
      });
    const jiraWebhook = jiraWebhookWith();
    const ack = ackWith();
    const frontDoor: LoopbackServer = await serveFunctionUrls(
      'jit-access',
      { '/slack/commands': ack, '/slack/interactivity': ack, '/jira/webhook': jiraWebhook },
      options.port,
      options.onFrontDoorRequest,
    );
    stops.push(() => frontDoor.close());
    const urls: StackUrls = {
      slackCommands: `${frontDoor.url}/slack/commands`,
      slackInteractivity: `${frontDoor.url}/slack/interactivity`,
      jiraWebhook: `${frontDoor.url}/jira/webhook`,
    };
    const webhookRegistration = {
      url: urls.jiraWebhook,
      secret: webhookSecret,
      events: ['jira:issue_updated'],
    };
    let webhookId = jira.registerWebhook(webhookRegistration).id;

    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint });
    let tableCounter = 0;
    const worker = (overrides: WorkerOverrides = {}, env: Readonly<Record<string, string>> = {}) =>
      createWorkerHandler({ ...workerEnv, ...env } as NodeJS.ProcessEnv, {
        clock,
        logger: logger('worker'),
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...overrides,
      });
    let unsubscribe: () => void = () => {};
    const subscribeWorker = (handler: WorkerHandler = worker(), subscription = { redeliverOnError }) => {
      unsubscribe();
      unsubscribe = topic.subscribe((event) => handler(event, { awsRequestId: randomUUID() }), subscription);
    };

    const settle = async () => {
      for (let round = 0; round < 6; round++) {
        await topic.drain();
        if (jira.pendingWebhooks().length === 0) break;
        await jira.deliverWebhooks();
      }
      await topic.drain();
    };

    const timers = new Set<NodeJS.Timeout>();
    const startPeriodicReconcile = (everyMs: number) => {
      const timer = setInterval(() => {
        // A failed publish is the next tick's to make up; the rule in AWS is just as best-effort.
        topic.publish(reconcileCommand(clock.now(), randomUUID())).catch(() => undefined);
      }, everyMs);
      timer.unref();
      timers.add(timer);
      return () => {
        clearInterval(timer);
        timers.delete(timer);
      };
    };

    const stack: LocalStack = {
      clock,
      ad,
      db,
      vault,
      scheduler,
      slack,
      jira,
      topic,
      catalogPath,
      dynamoEndpoint: dynamo.endpoint,
      signingSecret,
      webhookSecret,
      ack,
      jiraWebhook,
      urls,
      get tableName() {
        return workerEnv.REQUESTS_TABLE!;
      },
      env: { ack: ackEnv, jiraWebhook: jiraWebhookEnv, worker: workerEnv },
      store: () =>
        new DynamoDbRequestStore({ client: dynamoClient, tableName: workerEnv.REQUESTS_TABLE!, clock }),
      ackWith,
      jiraWebhookWith,
      worker,
      subscribeWorker,
      snsEvent: (command) => {
        const { type, version } = attributesOf(command);
        return snsLambdaEvent({
          subscriptionArn: `${topic.arn}:${randomUUID()}`,
          topicArn: topic.arn,
          messageId: randomUUID(),
          message: JSON.stringify(command),
          at: clock.now(),
          attributes: {
            type: { DataType: 'String', StringValue: type },
            version: { DataType: 'String', StringValue: version },
          },
          region: REGION,
        });
      },
      signed: (request) =>
        toLambdaEvent(request, {
          signingSecret,
          timestamp: Math.floor(clock.now().getTime() / 1000),
        }),
      settle,
      startPeriodicReconcile,
      captureWebhooks: async (act) => {
        const bodies: string[] = [];
        const capture = await serveFunctionUrl('capture', async (event) => {
          bodies.push(event.body ?? '');
          return { statusCode: 204 };
        });
        jira.unregisterWebhook(webhookId);
        const { id } = jira.registerWebhook({ url: capture.url, secret: WEBHOOK_SECRET });
        try {
          await act();
          await jira.deliverWebhooks();
        } finally {
          jira.unregisterWebhook(id);
          webhookId = jira.registerWebhook(webhookRegistration).id;
          await capture.close();
        }
        return bodies;
      },
      reset: async () => {
        await topic.drain();
        // Every temporary user of the last test is dropped, as its lease's revocation does.
        await vault.revokeAll();
        vault.requests.length = 0;
        scheduler.reset();
        slack.reset();
        jira.reset();
        topic.reset();
        workerEnv.REQUESTS_TABLE = `requests-${process.pid}-${++tableCounter}`;
        await createRequestTable(dynamoClient, workerEnv.REQUESTS_TABLE);
        subscribeWorker();
      },
      stop: async () => {
        for (const timer of timers) clearInterval(timer);
        timers.clear();
        unsubscribe();
        await topic.drain();
        await stopAll();
      },
    };
    await stack.reset();
    if (options.reconcileEveryMs) startPeriodicReconcile(options.reconcileEveryMs);
    return stack;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Vault as the platform team sets it up: one connection per catalog connection, on the private
 * MariaDB, with the username template the docs give for its flavor (the operator's part, which
 * `vault sync` never writes), then `jit-access vault sync --apply` for the rest, and a token with
 * the worker's policy. Returns that token.
 */
async function configureVault(
  vault: VaultEmulator,
  db: MariaDbConnection,
  catalog: Catalog,
): Promise<string> {
  const target = { address: vault.url };
  const root = vault.rootToken;
  const connections = new Map<string, { flavor: ServerFlavor; roles: string[] }>();
  for (const [name, entry] of Object.entries(catalog.databases)) {
    const connection = connections.get(entry.vaultConnection) ?? { flavor: entry.flavor, roles: [] };
    connection.roles.push(...Object.keys(entry.levels).map((level) => vaultRoleName(name, level)));
    connections.set(entry.vaultConnection, connection);
  }
  for (const [name, connection] of connections) {
    const answer = await vaultCall(target, {
      method: 'POST',
      path: `database/config/${name}`,
      token: root,
      body: {
        plugin_name: FLAVORS[connection.flavor].vaultPlugin,
        connection_url: `{{username}}:{{password}}@tcp(${db.host}:${db.port})/`,
        username: db.user,
        password: db.password,
        allowed_roles: connection.roles,
        username_template: suggestedTemplate(FLAVORS[connection.flavor].maxUserName),
      },
    });
    if (answer.status >= 300)
      throw new Error(`local stack: Vault refused connection ${name}: ${answer.status}`);
  }
  const plan = await planVaultSync(catalog, target, root);
  if (plan.problems.length > 0) throw new Error(`local stack: ${formatPlan(plan).join('\n')}`);
  await applyVaultSync(plan, target, root);
  const created = await vaultCall(target, {
    method: 'POST',
    path: 'auth/token/create',
    token: root,
    body: { policies: [WORKER_POLICY], ttl: '768h', display_name: 'jit-access-worker' },
  });
  const token = (created.body?.auth as { client_token?: string } | undefined)?.client_token;
  if (!token) throw new Error(`local stack: Vault did not create the worker token (${created.status})`);
  return token;
}

function inProcessTopic(topic: InProcessTopic): StackTopic {
  return {
    arn: topic.topicArn,
    publish: (command) => topic.publish(command),
    published: () => [...topic.published()],
    failedAttempts: () => topic.failedAttempts.map((attempt) => attempt.error),
    drain: () => topic.drain(),
    subscribe: (handler, options) => topic.subscribe(handler, options),
    reset: () => topic.reset(),
  };
}

function snsTopic(sns: SnsEmulator): StackTopic {
  const arn = sns.createTopic('jit-access-commands');
  const publisher = new SnsEventPublisher({
    client: new SNSClient({
      endpoint: sns.url,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    topicArn: arn,
  });
  return {
    arn,
    publish: (command) => publisher.publish(command),
    published: () => sns.publishedTo(arn).map((message) => parseTopicCommand(message.message)),
    failedAttempts: () => sns.deliveryErrors.map((delivery) => delivery.error),
    drain: () => sns.drain(),
    subscribe: (handler, options) => sns.subscribe(arn, handler, options).unsubscribe,
    reset: () => sns.reset(),
  };
}
