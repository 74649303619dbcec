import { Logger } from '@aws-lambda-powertools/logger';
import { lowerCaseHeaders } from '../../shared/adapters/http-headers.js';
import { checkSlackBody } from '../../shared/adapters/slack/payload-gate.js';
import { verifySlackRequest } from '../../shared/adapters/slack/request-verification.js';
import { systemClock } from '../../shared/adapters/system-clock.js';
import { parseEnv } from '../../shared/config/env.js';
import { secretValue } from '../../shared/config/secrets.js';
import { loadRuntimeCatalog } from '../../shared/config/runtime-catalog.js';
import { createRequestIdGenerator } from '../../shared/domain/request-id.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import { ackEnvSchema } from './config.js';
import { PUBLISH_DEADLINE_MS } from './deadlines.js';
import type { AwsHandler } from './slack-app.js';

export interface AckOverrides {
  readonly clock?: Clock;
  readonly publisher?: EventPublisher;
  readonly logger?: Logger;
}

/**
 * Composition root of the ack Lambda. The environment is validated here, at cold start, so a
 * misconfigured function fails naming the variable, not somewhere deep later.
 *
 * Only what every request needs is loaded at cold start (config, logger, signature check). Bolt
 * and the SNS client are loaded when the first request has passed the signature check: an
 * unsigned request never costs more than an HMAC, and a cold start stays short.
 */
export function createAckHandler(
  env: NodeJS.ProcessEnv = process.env,
  overrides: AckOverrides = {},
): AwsHandler {
  const config = parseEnv('the ack Lambda', ackEnvSchema, env);
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? new Logger({ serviceName: 'jit-access-ack' });
  const publisher = overrides.publisher ?? lazySnsPublisher(config.ACCESS_TOPIC_ARN);

  const secrets = (async () => {
    const [signingSecret, botToken] = await Promise.all([
      secretValue(config.SLACK_SIGNING_SECRET, config.SLACK_SIGNING_SECRET_ARN),
      secretValue(config.SLACK_BOT_TOKEN, config.SLACK_BOT_TOKEN_ARN),
    ]);
    return { signingSecret, botToken };
  })();
  secrets.catch(() => {});

  let app: Promise<AwsHandler> | undefined;
  const slackApp = () =>
    (app ??= (async () => {
      const [{ createSlackApp }, catalog, { botToken }] = await Promise.all([
        import('./slack-app.js'),
        loadRuntimeCatalog(config.JIT_ACCESS_CONFIG),
        secrets,
      ]);
      return createSlackApp({
        catalog,
        botToken,
        logger,
        publisher,
        clock,
        newRequestId: createRequestIdGenerator(clock),
        ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
      });
    })());

  return async (event, context) => {
    const { signingSecret } = await secrets;
    const verified = verifySlackRequest(event, {
      signingSecret,
      now: () => clock.now(),
      ...(config.SLACK_TEAM_ID ? { teamId: config.SLACK_TEAM_ID } : {}),
    });
    if (!verified.ok) {
      logger.warn('request refused', { status: verified.statusCode, reason: verified.reason });
      return { statusCode: verified.statusCode, body: '' };
    }
    const shape = checkSlackBody(verified.rawBody);
    if (!shape.ok) {
      logger.warn('request refused', { status: 400, reason: shape.reason });
      return { statusCode: 400, body: '' };
    }
    // Bolt gets the body as verified: decoded, with a content type it recognises exactly, under
    // lower-cased names (it takes the first name that matches in any case).
    const headers = {
      ...lowerCaseHeaders(event.headers),
      'content-type': 'application/x-www-form-urlencoded',
    };
    return (await slackApp())({ ...event, body: verified.rawBody, isBase64Encoded: false, headers }, context);
  };
}

/** Publishes through SNS, loading the SDK on the first publish. */
function lazySnsPublisher(topicArn: string): EventPublisher {
  let publisher: Promise<EventPublisher> | undefined;
  return {
    publish: async (command) => {
      publisher ??= (async () => {
        const [{ SNSClient }, { SnsEventPublisher }] = await Promise.all([
          import('@aws-sdk/client-sns'),
          import('../../shared/adapters/sns/sns-event-publisher.js'),
        ]);
        // Tight limits: a slow publish must fail fast enough to still tell the user within 3 s.
        const client = new SNSClient({
          maxAttempts: 2,
          requestHandler: { connectionTimeout: 300, requestTimeout: 1000 },
        });
        return new SnsEventPublisher({ client, topicArn, timeoutMs: PUBLISH_DEADLINE_MS });
      })();
      return (await publisher).publish(command);
    },
  };
}
