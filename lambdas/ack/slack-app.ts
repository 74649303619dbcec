import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { App, AwsLambdaReceiver, LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Catalog } from '../../shared/config/catalog-schema.js';
import type { IntakeDeps } from '../../shared/use-cases/request-intake.js';
import { SLACK_CALL_DEADLINE_MS } from './deadlines.js';
import { registerDecisions } from './listeners/decisions.js';
import { registerGrantActions } from './listeners/grant-actions.js';
import { registerRequestModal } from './listeners/request-modal.js';
import { registerSlashCommand } from './listeners/slash-command.js';

export interface SlackAppDeps extends IntakeDeps {
  readonly catalog: Catalog;
  readonly botToken: string;
  readonly logger: PowertoolsLogger;
  readonly slackApiUrl?: string;
}

/** Function URL / HTTP API v2 in, structured result out: the handler Lambda invokes. */
export type AwsHandler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The Bolt app: it turns Slack payloads into use-case calls and their outcomes into replies.
 * It decides nothing about who may do what; the worker verifies every actor.
 */
export function createSlackApp(deps: SlackAppDeps): AwsHandler {
  const { catalog } = deps;
  const receiver = new AwsLambdaReceiver({
    // The request was verified by verifySlackRequest before it reaches Bolt (Bolt cannot refuse
    // future timestamps, and its clock cannot be injected), so Bolt's own check is off.
    signingSecret: 'verified-upstream',
    signatureVerification: false,
    logger: boltLogger(deps.logger),
  });
  const app = new App({
    receiver,
    // authorize instead of token: Bolt would otherwise call auth.test on every cold start.
    authorize: async () => ({ botToken: deps.botToken }),
    logger: boltLogger(deps.logger),
    clientOptions: {
      ...(deps.slackApiUrl ? { slackApiUrl: deps.slackApiUrl } : {}),
      retryConfig: { retries: 0 },
      timeout: SLACK_CALL_DEADLINE_MS,
      // respond() posts to the response_url with this fetch, which has no deadline of its own.
      fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(SLACK_CALL_DEADLINE_MS) }),
    },
  });

  const listenerDeps = { ...deps, catalog };
  registerSlashCommand(app, listenerDeps);
  registerRequestModal(app, listenerDeps);
  registerDecisions(app, listenerDeps);
  registerGrantActions(app, listenerDeps);

  app.error(async (error) => {
    deps.logger.error('unhandled error in a Slack listener', { error: error.name, code: error.code });
  });

  return receiver.toHandler() as unknown as AwsHandler;
}

/** Bolt's messages go to the structured logger; its debug level (which prints whole events) never does. */
function boltLogger(logger: PowertoolsLogger): SlackLogger {
  let level = LogLevel.WARN;
  const text = (parts: unknown[]) => parts.map((p) => (p instanceof Error ? p.message : String(p))).join(' ');
  return {
    debug: () => {},
    info: (...msg) => {
      if (level === LogLevel.INFO) logger.info(text(msg));
    },
    warn: (...msg) => logger.warn(text(msg)),
    error: (...msg) => logger.error(text(msg)),
    setLevel: (next) => {
      level = next === LogLevel.DEBUG ? LogLevel.INFO : next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
