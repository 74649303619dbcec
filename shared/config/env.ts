import * as z from 'zod';

/** A Lambda's environment is wrong: raised at cold start, naming every variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly component: string,
    readonly problems: readonly string[],
  ) {
    super(`${component} is misconfigured:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates `env` against a Lambda's schema; messages start with the variable's name. */
export function parseEnv<S extends z.ZodType>(
  component: string,
  schema: S,
  env: NodeJS.ProcessEnv,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    component,
    result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const missing = issue.code === 'invalid_type' && env[name] === undefined;
      return `${name || '(environment)'}: ${missing ? 'is not set' : issue.message}`;
    }),
  );
}

/** A Secrets Manager secret ARN, for variables named `…_ARN`. */
export const secretArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, {
    error: 'must be a Secrets Manager secret ARN',
  });

/** Secrets come either directly (local runs, tests) or as an ARN: exactly one of NAME and NAME_ARN. */
export function requireOneOf(env: Record<string, unknown>, ctx: z.RefinementCtx, name: string): void {
  const direct = env[name] !== undefined;
  const viaArn = env[`${name}_ARN`] !== undefined;
  if (direct === viaArn) {
    ctx.addIssue({
      code: 'custom',
      path: [name],
      message: direct ? `set either ${name} or ${name}_ARN, not both` : `is not set (nor ${name}_ARN)`,
    });
  }
}

/**
 * A Lambda's environment schema: its variables, and the rules across them. The rules run even
 * when a variable is already wrong (zod would skip them), so every problem is named in one go.
 */
export function environment<Shape extends z.ZodRawShape>(
  shape: Shape,
  rules: (env: Partial<z.output<z.ZodObject<Shape>>>, ctx: z.RefinementCtx) => void = () => {},
) {
  return z.object(shape).superRefine(rules as never, { when: () => true } as never);
}

/** The access topic's ARN. */
export const snsTopicArnSchema = z
  .string({ error: 'is not set' })
  .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, {
    error: 'must be an SNS topic ARN',
  });

export const slackBotTokenSchema = z.string().regex(/^xoxb-/, { error: 'must be a bot token (xoxb-…)' });

export const jiraEmailSchema = z.email({
  error: 'must be the e-mail of the Jira account jit-access acts as',
});
