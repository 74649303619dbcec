import * as z from 'zod';
import { requireOneOf, secretArnSchema as secretArn } from '../../shared/config/env.js';

/** The ack Lambda's environment, validated at cold start. */
export const ackEnvSchema = z
  .object({
    SLACK_SIGNING_SECRET: z
      .string()
      .min(16, { error: 'looks too short to be a Slack signing secret' })
      .optional(),
    SLACK_SIGNING_SECRET_ARN: secretArn.optional(),
    SLACK_BOT_TOKEN: z
      .string()
      .regex(/^xoxb-/, { error: 'must be a bot token (xoxb-…)' })
      .optional(),
    SLACK_BOT_TOKEN_ARN: secretArn.optional(),
    ACCESS_TOPIC_ARN: z
      .string({ error: 'is not set' })
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, {
        error: 'must be an SNS topic ARN',
      }),
    SLACK_TEAM_ID: z
      .string()
      .regex(/^T[A-Z0-9]+$/, { error: 'must be a Slack team id such as T0123ABCD' })
      .optional(),
    /** Path of a catalog YAML; without it the catalog bundled at build time is used. */
    JIT_ACCESS_CONFIG: z.string().min(1).optional(),
    /** Only for the local stack and tests: the Slack Web API emulator. */
    SLACK_API_URL: z.url().optional(),
  })
  .superRefine((env, ctx) => {
    for (const name of ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN']) requireOneOf(env, ctx, name);
  });

export type AckEnv = z.output<typeof ackEnvSchema>;
