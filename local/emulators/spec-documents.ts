import { existsSync, readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';

/*
 * What the Slack and Jira description checkers share: whether a description can be used, reading
 * one once per path (they are megabytes, and many test files read them), and compiling each schema
 * once per description.
 */

export type SpecAvailability = { available: true; path: string } | { available: false; reason: string };

/**
 * Whether a vendor's API description can be used. Contract tests skip with `reason` when it
 * cannot: a clone without ../shared/specs still runs everything else.
 */
export function specAvailability(
  title: string,
  path: string,
  load: (path: string) => unknown,
): SpecAvailability {
  if (!existsSync(path)) {
    return { available: false, reason: `${title} not found at ${path} (a clone without ../shared/specs)` };
  }
  try {
    load(path);
    return { available: true, path };
  } catch (error) {
    return {
      available: false,
      reason: `${title} at ${path} is unusable: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** A loader that parses the JSON description at a path once and keeps what `build` made of it. */
export function specLoader<T>(build: (document: unknown, path: string) => T): (path: string) => T {
  const loaded = new Map<string, T>();
  return (path) => {
    const cached = loaded.get(path);
    if (cached) return cached;
    const spec = build(JSON.parse(readFileSync(path, 'utf8')), path);
    loaded.set(path, spec);
    return spec;
  };
}

/** Compiled validators per description and key: compiling a schema costs far more than running it. */
export function validatorCache<S extends object>(): (
  spec: S,
  key: string,
  compile: () => ValidateFunction,
) => ValidateFunction {
  const validators = new WeakMap<S, Map<string, ValidateFunction>>();
  return (spec, key, compile) => {
    let cache = validators.get(spec);
    if (!cache) {
      cache = new Map();
      validators.set(spec, cache);
    }
    const cached = cache.get(key);
    if (cached) return cached;
    const validate = compile();
    cache.set(key, validate);
    return validate;
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A schema taken out of its document, with `#/…` references pointed at the document registered
 * as `specId`, so ajv resolves them against the whole description.
 */
export function rebaseRefs(node: unknown, specId: string): unknown {
  if (Array.isArray(node)) return node.map((item) => rebaseRefs(item, specId));
  if (!isRecord(node)) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    copy[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? `${specId}${value}`
        : rebaseRefs(value, specId);
  }
  return copy;
}
