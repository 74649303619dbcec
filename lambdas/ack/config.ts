import * as z from 'zod';
import {
  environment,
  requireOneOf,
  secretArnSchema as secretArn,
  slackBotTokenSchema,
  snsTopicArnSchema,
} from '../../shared/config/env.js';

/** The ack Lambda's environment, validated at cold start. */
export const ackEnvSchema = environment(
  {
    SLACK_SIGNING_SECRET: z
      .string()
      .min(16, { error: 'looks too short to be a Slack signing secret' })
      .optional(),
    SLACK_SIGNING_SECRET_ARN: secretArn.optional(),
    SLACK_BOT_TOKEN: slackBotTokenSchema.optional(),
    SLACK_BOT_TOKEN_ARN: secretArn.optional(),
    ACCESS_TOPIC_ARN: snsTopicArnSchema,
    SLACK_TEAM_ID: z
      .string()
      .regex(/^T[A-Z0-9]+$/, { error: 'must be a Slack team id such as T0123ABCD' })
      .optional(),
    /** Path of a catalog YAML; without it the catalog bundled at build time is used. */
    JIT_ACCESS_CONFIG: z.string().min(1).optional(),
    /** Only for the local stack and tests: the Slack Web API emulator. */
    SLACK_API_URL: z.url().optional(),
  },
  (env, ctx) => {
    for (const name of ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN']) requireOneOf(env, ctx, name);
  },
);

export type AckEnv = z.output<typeof ackEnvSchema>;
