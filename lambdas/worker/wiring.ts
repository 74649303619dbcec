import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SNSEvent } from 'aws-lambda';
import { DynamoDbRequestStore } from '../../shared/adapters/dynamodb/dynamodb-request-store.js';
import { JiraTicketTracker } from '../../shared/adapters/jira/jira-ticket-tracker.js';
import { LdapDirectory } from '../../shared/adapters/ldap/ldap-directory.js';
import { SlackNotifier } from '../../shared/adapters/slack/slack-notifier.js';
import { SlackWebApi } from '../../shared/adapters/slack/slack-web-api.js';
import { systemClock } from '../../shared/adapters/system-clock.js';
import type { Catalog } from '../../shared/config/catalog-schema.js';
import { parseEnv } from '../../shared/config/env.js';
import { loadRuntimeCatalog } from '../../shared/config/runtime-catalog.js';
import { secretValue } from '../../shared/config/secrets.js';
import type { ChatIdentity, Notifier } from '../../shared/ports/chat.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { Directory } from '../../shared/ports/directory.js';
import type { RequestStore } from '../../shared/ports/request-store.js';
import type { TicketTracker } from '../../shared/ports/ticket-tracker.js';
import { cancelRequest } from '../../shared/use-cases/cancel-request.js';
import { decideRequest } from '../../shared/use-cases/decide-request.js';
import { submitRequest } from '../../shared/use-cases/submit-request.js';
import { workerEnvSchema } from './config.js';
import { type CommandHandlers, processRecord } from './process-command.js';

/** What tests (and the local stack) may replace; everything else comes from the environment. */
export interface WorkerOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly store?: RequestStore;
  readonly directory?: Directory;
  readonly tickets?: TicketTracker;
  readonly identity?: ChatIdentity;
  readonly notifier?: Notifier;
}

interface WorkerParts {
  readonly catalog: Catalog;
  readonly store: RequestStore;
  readonly directory: Directory;
  readonly tickets: TicketTracker;
  readonly identity: ChatIdentity;
  readonly notifier: Notifier;
}

/** Composition root of the worker Lambda; the environment is validated at cold start. */
export function createWorkerHandler(
  env: NodeJS.ProcessEnv = process.env,
  overrides: WorkerOverrides = {},
): (event: SNSEvent, context: Pick<Context, 'awsRequestId'>) => Promise<void> {
  const config = parseEnv('the worker Lambda', workerEnvSchema, env);
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? new Logger({ serviceName: 'jit-access-worker' });

  const parts: Promise<WorkerParts> = (async () => {
    const [catalog, botToken, bindPassword, apiToken] = await Promise.all([
      loadRuntimeCatalog(config.JIT_ACCESS_CONFIG),
      overrides.identity && overrides.notifier
        ? ''
        : secretValue(config.SLACK_BOT_TOKEN, config.SLACK_BOT_TOKEN_ARN),
      overrides.directory ? '' : secretValue(config.LDAP_BIND_PASSWORD, config.LDAP_BIND_PASSWORD_ARN),
      overrides.tickets ? '' : secretValue(config.JIRA_API_TOKEN, config.JIRA_API_TOKEN_ARN),
    ]);
    const slack = new SlackWebApi({
      botToken,
      ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    });
    return {
      catalog,
      store:
        overrides.store ??
        new DynamoDbRequestStore({ client: new DynamoDBClient({}), tableName: config.REQUESTS_TABLE, clock }),
      directory:
        overrides.directory ??
        new LdapDirectory({
          url: config.LDAP_URL,
          bindDn: config.LDAP_BIND_DN,
          bindPassword,
          baseDn: config.LDAP_BASE_DN,
          security: config.LDAP_SECURITY,
          allowPlain: config.LDAP_ALLOW_PLAIN === 'true',
          ...(config.LDAP_CA_CERT ? { caCert: config.LDAP_CA_CERT } : {}),
          ...(config.LDAP_TLS_SERVER_NAME ? { tlsServerName: config.LDAP_TLS_SERVER_NAME } : {}),
        }),
      tickets:
        overrides.tickets ??
        new JiraTicketTracker({
          catalog,
          host: config.JIRA_BASE_URL ?? catalog.global.jira.site,
          email: config.JIRA_EMAIL,
          apiToken,
          projectKeys: [catalog.global.jira.projectKey],
        }),
      identity: overrides.identity ?? slack,
      notifier: overrides.notifier ?? new SlackNotifier(slack, catalog),
    };
  })();
  parts.catch(() => {});

  return async (event, context) => {
    const { catalog, store, directory, tickets, identity, notifier } = await parts;
    const deps = {
      catalog,
      store,
      directory,
      tickets,
      identity,
      notifier,
      clock,
      lookupAttribute: config.DIRECTORY_LOOKUP_ATTRIBUTE,
    };
    const handlers: CommandHandlers = {
      submit: (command, invocationId) => submitRequest({ ...deps, invocationId }, command),
      decide: (command) => decideRequest(deps, command),
      cancel: (command) => cancelRequest(deps, command),
    };
    for (const record of event.Records) {
      await processRecord(handlers, logger, record, context.awsRequestId);
    }
  };
}
