import type { z } from 'zod';

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
