import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { JiraTicketTracker } from '../../shared/adapters/jira/jira-ticket-tracker.js';
import { verifyJiraWebhook } from '../../shared/adapters/jira/webhook-verification.js';
import { parseJiraStatusChange } from '../../shared/adapters/jira/webhook-payload.js';
import { SnsEventPublisher } from '../../shared/adapters/sns/sns-event-publisher.js';
import { systemClock } from '../../shared/adapters/system-clock.js';
import { parseEnv } from '../../shared/config/env.js';
import { loadRuntimeCatalog } from '../../shared/config/runtime-catalog.js';
import { secretValue } from '../../shared/config/secrets.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { TicketTracker } from '../../shared/ports/ticket-tracker.js';
import {
  intakeJiraStatusChange,
  type JiraIntakeOutcome,
} from '../../shared/use-cases/jira-decision-intake.js';
import { jiraWebhookEnvSchema } from './config.js';

export type JiraWebhookHandler = (
  event: APIGatewayProxyEventV2,
  context?: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** What tests (and the local stack) may replace; everything else comes from the environment. */
export interface JiraWebhookOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly publisher?: EventPublisher;
  readonly tickets?: TicketTracker;
}

/** Composition root of the jira-webhook Lambda; the environment is validated at cold start. */
export function createJiraWebhookHandler(
  env: NodeJS.ProcessEnv = process.env,
  overrides: JiraWebhookOverrides = {},
): JiraWebhookHandler {
  const config = parseEnv('the jira-webhook Lambda', jiraWebhookEnvSchema, env);
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? new Logger({ serviceName: 'jit-access-jira-webhook' });
  const metrics =
    overrides.metrics ?? new Metrics({ namespace: 'jit-access', serviceName: 'jit-access-jira-webhook' });

  const parts = (async () => {
    const [catalog, secret, token, apiToken] = await Promise.all([
      loadRuntimeCatalog(config.JIT_ACCESS_CONFIG),
      optionalSecret(config.JIRA_WEBHOOK_SECRET, config.JIRA_WEBHOOK_SECRET_ARN),
      optionalSecret(config.JIRA_WEBHOOK_TOKEN, config.JIRA_WEBHOOK_TOKEN_ARN),
      overrides.tickets ? '' : secretValue(config.JIRA_API_TOKEN, config.JIRA_API_TOKEN_ARN),
    ]);
    const tickets =
      overrides.tickets ??
      new JiraTicketTracker({
        catalog,
        host: config.JIRA_BASE_URL ?? catalog.global.jira.site,
        email: config.JIRA_EMAIL,
        apiToken,
        projectKeys: [catalog.global.jira.projectKey],
        // Jira waits about 10 s for an answer; leave room to answer before it gives up.
        maxRetries: 1,
        timeoutMs: 3000,
      });
    const publisher =
      overrides.publisher ??
      new SnsEventPublisher({ client: new SNSClient({ maxAttempts: 3 }), topicArn: config.ACCESS_TOPIC_ARN });
    return {
      catalog,
      tickets,
      publisher,
      policy: { ...(secret ? { secret } : {}), ...(token ? { token } : {}) },
    };
  })();
  parts.catch(() => {});

  // Two parameters: Lambda's Node 24+ runtimes refuse callback-style (3-argument) handlers.
  return async (event, _context) => {
    const { catalog, tickets, publisher, policy } = await parts;
    const verified = verifyJiraWebhook(event, policy);
    if (!verified.ok) {
      logger.warn('webhook refused', { status: verified.statusCode, reason: verified.reason });
      return { statusCode: verified.statusCode, body: '' };
    }
    const parsed = parseJiraStatusChange(verified.rawBody, verified.identifier);
    const outcome: WebhookOutcome = parsed.ok
      ? await intakeJiraStatusChange({ catalog, tickets, publisher, clock }, parsed.change)
      : { kind: 'ignored', why: parsed.why };
    logOutcome(logger, metrics, outcome, verified);
    return { statusCode: STATUS_FOR[outcome.kind], body: '' };
  };
}

/** The use case's outcome, or the parser's reason a verified body is not a status change. */
type WebhookOutcome = JiraIntakeOutcome | { kind: 'ignored'; why: string };

/**
 * What Jira is answered for each outcome. Jira retries 408, 409, 425, 429 and any 5xx (up to five
 * times, same identifier); every other answer is final.
 */
export const STATUS_FOR: Record<WebhookOutcome['kind'], number> = {
  queued: 202,
  ignored: 204,
  // A change the contract cannot carry: final, since Jira would send the same body again.
  malformed: 422,
  // Jira refused jit-access's own calls (token, permission, project): final; an operator fixes it.
  tracker_refused: 424,
  retry_later: 503,
};

function logOutcome(
  logger: Logger,
  metrics: Metrics,
  outcome: WebhookOutcome,
  verified: { via: string; identifier?: string },
): void {
  const delivery = {
    via: verified.via,
    ...(verified.identifier ? { webhookIdentifier: verified.identifier } : {}),
  };
  switch (outcome.kind) {
    case 'queued':
      return logger.info('webhook handled', {
        outcome: outcome.kind,
        ...delivery,
        requestId: outcome.command.requestId,
        decision: outcome.command.decision,
        commandId: outcome.command.commandId,
      });
    case 'ignored':
    case 'retry_later':
      return logger.info('webhook handled', { outcome: outcome.kind, ...delivery, why: outcome.why });
    case 'malformed':
      return logger.warn('webhook refused: the change breaks the topic contract', {
        outcome: outcome.kind,
        ...delivery,
        fields: outcome.fields,
      });
    case 'tracker_refused':
      // Every decision made in Jira is lost until this is fixed: loud, counted, alarmed on.
      logger.error('Jira refused jit-access for good; fix the setting', {
        outcome: outcome.kind,
        ...delivery,
        status: outcome.status,
        setting: outcome.setting,
      });
      metrics.addMetric('JiraRefusedOwnCall', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      return;
  }
}

async function optionalSecret(
  direct: string | undefined,
  arn: string | undefined,
): Promise<string | undefined> {
  return direct === undefined && arn === undefined ? undefined : secretValue(direct, arn);
}
