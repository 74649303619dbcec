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
