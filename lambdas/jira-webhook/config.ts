import * as z from 'zod';
import {
  environment,
  jiraEmailSchema,
  requireOneOf,
  secretArnSchema as secretArn,
  snsTopicArnSchema,
} from '../../shared/config/env.js';

/** The jira-webhook Lambda's environment, validated at cold start. */
export const jiraWebhookEnvSchema = environment(
  {
    /** The secret of the admin webhook; Jira signs every delivery with it. */
    JIRA_WEBHOOK_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    JIRA_WEBHOOK_SECRET_ARN: secretArn.optional(),
    /** Alternative for Jira Automation "Send web request": a token sent in X-Jit-Access-Token. */
    JIRA_WEBHOOK_TOKEN: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
    JIRA_WEBHOOK_TOKEN_ARN: secretArn.optional(),
    JIRA_EMAIL: jiraEmailSchema,
    JIRA_API_TOKEN: z.string().min(1).optional(),
    JIRA_API_TOKEN_ARN: secretArn.optional(),
    /** Only for the local stack and tests: the Jira emulator instead of the catalog's site. */
    JIRA_BASE_URL: z.url().optional(),
    ACCESS_TOPIC_ARN: snsTopicArnSchema,
    JIT_ACCESS_CONFIG: z.string().min(1).optional(),
  },
  (env, ctx) => {
    requireOneOf(env, ctx, 'JIRA_API_TOKEN');
    const configured = [
      'JIRA_WEBHOOK_SECRET',
      'JIRA_WEBHOOK_SECRET_ARN',
      'JIRA_WEBHOOK_TOKEN',
      'JIRA_WEBHOOK_TOKEN_ARN',
    ];
    if (!configured.some((name) => env[name as keyof typeof env] !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['JIRA_WEBHOOK_SECRET'],
        message:
          'is not set: set JIRA_WEBHOOK_SECRET (or _ARN) to the admin webhook secret, or JIRA_WEBHOOK_TOKEN (or _ARN) for a Jira Automation web request; without one, anybody could post decisions',
      });
    }
    for (const name of ['JIRA_WEBHOOK_SECRET', 'JIRA_WEBHOOK_TOKEN'] as const) {
      if (env[name] !== undefined && env[`${name}_ARN`] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `and ${name}_ARN are both set; keep one` });
      }
    }
  },
);

export type JiraWebhookEnv = z.output<typeof jiraWebhookEnvSchema>;
