import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SNSEvent } from 'aws-lambda';
import { DynamoDbRequestStore } from '../../shared/adapters/dynamodb/dynamodb-request-store.js';
import { JiraTicketTracker } from '../../shared/adapters/jira/jira-ticket-tracker.js';
import { LdapDirectory } from '../../shared/adapters/ldap/ldap-directory.js';
import { SlackNotifier } from '../../shared/adapters/slack/slack-notifier.js';
import { SlackWebApi } from '../../shared/adapters/slack/slack-web-api.js';
import { systemClock } from '../../shared/adapters/system-clock.js';
import { VaultCredentialBroker } from '../../shared/adapters/vault/vault-credential-broker.js';
import { awsLoginTokenSource, staticTokenSource } from '../../shared/adapters/vault/vault-token-source.js';
import type { CredentialBroker } from '../../shared/ports/credential-broker.js';
import { grantAccess } from '../../shared/use-cases/grant-access.js';
import { reissueCredential } from '../../shared/use-cases/reissue-credential.js';
import { endGrant } from '../../shared/use-cases/end-grant.js';
import { askExtension, decideExtension } from '../../shared/use-cases/extend-grant.js';
import { revokeGrant } from '../../shared/use-cases/revoke-grant.js';
import { reconcile } from '../../shared/use-cases/reconcile.js';
import { EventBridgeExpiryScheduler } from '../../shared/adapters/scheduler/eventbridge-expiry-scheduler.js';
import type { ExpiryScheduler } from '../../shared/ports/expiry-scheduler.js';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
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
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { type WorkerEnv, workerEnvSchema } from './config.js';
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
  readonly broker?: CredentialBroker;
  readonly scheduler?: ExpiryScheduler;
  readonly metrics?: Metrics;
}

interface WorkerParts {
  readonly catalog: Catalog;
  readonly store: RequestStore;
  readonly directory: Directory;
  readonly tickets: TicketTracker;
  readonly identity: ChatIdentity;
  readonly notifier: Notifier;
}

/**
 * Vault as the worker's credential broker: logged in by the Lambda's IAM role in AWS (no Vault
 * secret stored anywhere), or with VAULT_TOKEN in local runs.
 */
function vaultBroker(config: WorkerEnv, clock: Clock): CredentialBroker {
  const endpoint = config.VAULT_ADDR ?? '';
  const namespace = config.VAULT_NAMESPACE ? { namespace: config.VAULT_NAMESPACE } : {};
  const token = config.VAULT_TOKEN
    ? staticTokenSource(config.VAULT_TOKEN)
    : awsLoginTokenSource({
        endpoint,
        role: config.VAULT_AWS_ROLE ?? '',
        credentials: defaultProvider(),
        clock,
        ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
        ...(config.VAULT_AWS_SERVER_ID ? { serverId: config.VAULT_AWS_SERVER_ID } : {}),
        ...namespace,
      });
  return new VaultCredentialBroker({
    endpoint,
    token,
    clock,
    ...namespace,
    ...(config.VAULT_TOKEN_ROLE ? { tokenRole: config.VAULT_TOKEN_ROLE } : {}),
  });
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
  const broker = overrides.broker ?? vaultBroker(config, clock);
  const metrics =
    overrides.metrics ?? new Metrics({ namespace: 'jit-access', serviceName: 'jit-access-worker' });
  /**
   * What the alarms watch: a revocation that failed (Vault down, the database unreachable) and
   * the pending ones reconcile found. Published at once: the alarm must not wait for a batch.
   */
  const countRevocation = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      metrics.addMetric('RevocationFailed', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      throw error;
    }
  };
  const scheduler =
    overrides.scheduler ??
    new EventBridgeExpiryScheduler({
      client: new SchedulerClient({}),
      groupName: config.EXPIRY_SCHEDULE_GROUP,
      topicArn: config.ACCESS_TOPIC_ARN,
      roleArn: config.EXPIRY_SCHEDULER_ROLE_ARN,
    });
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
    const granting = (invocationId: string) => ({ ...deps, broker, scheduler, invocationId });
    const handlers: CommandHandlers = {
      submit: (command, invocationId) => submitRequest({ ...deps, invocationId }, command),
      // An approval goes straight on to the grant: the requester waits for the DM, not a second hop.
      decide: async (command, invocationId) => {
        const decided = await decideRequest(deps, command);
        if (decided.kind !== 'approved') return { decided };
        return { decided, grant: await grantAccess(granting(invocationId), decided.request.requestId) };
      },
      cancel: (command) => cancelRequest(deps, command),
      extend: (command, invocationId) => askExtension(granting(invocationId), command),
      decideExtension: (command, invocationId) => decideExtension(granting(invocationId), command),
      reissue: (command, invocationId) => reissueCredential(granting(invocationId), command),
      reconcile: async (command, invocationId) => {
        const report = await reconcile({ ...deps, broker, scheduler, invocationId }, command);
        metrics.addMetric('RevocationsPending', MetricUnit.Count, report.revocationsPending);
        metrics.addMetric('GrantsEndedByReconcile', MetricUnit.Count, report.expired);
        metrics.addMetric('RequestsTimedOut', MetricUnit.Count, report.timedOut);
        metrics.addMetric('OrphansSwept', MetricUnit.Count, report.orphansSwept);
        metrics.addMetric('JiraDecisionsRecovered', MetricUnit.Count, report.decidedFromJira);
        metrics.publishStoredMetrics();
        return report;
      },
      revoke: (command, invocationId) =>
        countRevocation(() => revokeGrant({ ...deps, broker, scheduler, invocationId }, command)),
      expire: (command, invocationId) =>
        countRevocation(() =>
          endGrant(
            { ...deps, broker, scheduler, invocationId },
            {
              requestId: command.requestId,
              why: 'expired',
              role: 'system',
              actor: { kind: 'system', id: 'expiry-schedule' },
              channel: 'system',
            },
          ),
        ),
    };
    for (const record of event.Records) {
      await processRecord(handlers, logger, record, context.awsRequestId, () => {
        // Published at once, as the revocation counts: the alarm must see it the same hour.
        metrics.addMetric('SlackRejected', MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
      });
    }
  };
}
