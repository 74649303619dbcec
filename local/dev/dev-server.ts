import { startActiveDirectory, type ActiveDirectoryHandle } from '../active-directory.js';
import { demoPeople, TEAM, worldStack } from '../demo/world.js';
import { type MariaDbHandle, startMariaDb } from '../mariadb.js';
import { ReadableLogger } from '../readable-logger.js';
import { type LocalStack, startLocalStack } from '../stack.js';
import { ensureSystemPackages } from '../system-packages.js';
import { seedOrders } from '../demo/story.js';
import { createConnection } from 'mysql2/promise';
import type { DevConfig } from './dev-config.js';

/*
 * `npm run dev`: the real handlers on loopback behind the local stack's front door, with the
 * topic, the expiry scheduler and a periodic reconcile; each connector real or emulated as the
 * configuration says. Prints where it listens and what is real, then a readable line per request
 * and per handled command. stop() ends every server and removes every temporary directory.
 */

export interface DevServer {
  readonly stack: LocalStack;
  /** What `npm run dev` prints once it is up. */
  readonly banner: readonly string[];
  stop(): Promise<void>;
}

export interface DevServerOutput {
  readonly write: (line: string) => void;
  readonly colour: boolean;
}

export async function startDevServer(config: DevConfig, output: DevServerOutput): Promise<DevServer> {
  const emulatedWorld = !config.real.ldap && !config.real.vault;
  const owned: { db?: MariaDbHandle; ad?: ActiveDirectoryHandle; stack?: LocalStack } = {};
  const stop = async () => {
    await owned.stack?.stop().catch(() => undefined);
    await Promise.allSettled([owned.db?.stop(), owned.ad?.stop()]);
  };
  try {
    if (emulatedWorld) {
      ensureSystemPackages({ log: output.write });
      const [db, ad] = await Promise.all([startMariaDb(), startActiveDirectory()]);
      owned.db = db;
      owned.ad = ad;
      const { host, port, user, password } = db.connection;
      const admin = await createConnection({ host, port, user, password });
      await seedOrders(admin).finally(() => admin.end());
    }
    const world = owned.ad ? worldStack(owned.ad.connection, demoPeople(owned.ad.connection)) : undefined;
    // Each answered request as one more readable line, in the Lambdas' columns.
    const http = new ReadableLogger('http', output);
    const catalog = config.catalogPath ? { path: config.catalogPath } : world?.catalog;
    // dev-config.ts refuses a real directory or Vault without a catalog of one's own.
    if (!catalog) throw new Error('npm run dev: no catalog (set JIT_ACCESS_CONFIG)');
    const stack = await startLocalStack({
      // The emulated Slack's people, when Slack is emulated; a real workspace brings its own.
      slack: world?.slack ?? { teamId: TEAM },
      catalog,
      ...(owned.ad ? { directory: owned.ad.connection } : {}),
      ...(owned.db ? { database: owned.db.connection } : {}),
      connect: config.connect,
      port: config.port,
      reconcileEveryMs: config.reconcileEveryMs,
      // Jira's webhooks, emulated, go out as they happen, as a real site sends them.
      jira: { ...world?.jira, webhookDelivery: 'immediate' },
      logger: (service) => new ReadableLogger(service, output),
      onFrontDoorRequest: (request) =>
        http.info(`${request.method} ${request.path} → ${request.status} (${request.ms} ms)`),
    });
    owned.stack = stack;
    return { stack, banner: banner(config, stack), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function banner(config: DevConfig, stack: LocalStack): string[] {
  const kind = (real: boolean, emulated: string, realText: string) =>
    real ? `real: ${realText}` : `emulated: ${emulated}`;
  return [
    'jit-access dev server',
    `  POST ${stack.urls.slackCommands}       Slack slash command (ack Lambda)`,
    `  POST ${stack.urls.slackInteractivity}  Slack interactivity (ack Lambda)`,
    `  POST ${stack.urls.jiraWebhook}          Jira webhook (jira-webhook Lambda)`,
    'connectors',
    `  Slack   ${kind(config.real.slack, `Web API at ${stack.slack.apiUrl}; sign requests with ${stack.signingSecret}`, config.connect.slack?.apiUrl ?? 'https://slack.com/api')}`,
    `  Jira    ${kind(config.real.jira, `${stack.jira.url} (webhooks to the URL above)`, config.connect.jira?.baseUrl ?? '')}`,
    `  Vault   ${kind(config.real.vault, `${stack.vault.url}, on a private MariaDB at ${stack.db?.host}:${stack.db?.port}`, config.connect.vault?.address ?? '')}`,
    `  LDAP    ${kind(config.real.ldap, `Samba AD at ${stack.ad?.ldapsUrl}`, config.connect.ldap?.LDAP_URL ?? '')}`,
    `  catalog ${config.catalogPath ?? 'the demo world’s (orders: read, write)'}`,
    `  topic, expiry scheduler, DynamoDB: in process; reconcile every ${config.reconcileEveryMs / 1000} s`,
    'Ctrl-C stops it.',
  ];
}
