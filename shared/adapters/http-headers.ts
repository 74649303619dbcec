/*
 * HTTP headers as both doors read them. Function URLs send names lower-cased, API Gateway v1 and
 * some proxies do not: names are matched without regard to case, in one place.
 */

export type Headers = Readonly<Record<string, string | undefined>>;

/** The value of header `name`, whatever the case of its key. */
export function headerValue(headers: Headers | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** Every name lower-cased, so no later reader can pick a differently cased duplicate. */
export function lowerCaseHeaders(headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {}))
    if (value !== undefined) out[key.toLowerCase()] = value;
  return out;
}

/**
 * A header value fit for a log line, or undefined: it must match `shape` within `maxLength`
 * characters. Headers are the sender's words; a 20 KB one must not become a 20 KB log line.
 */
export function loggableHeader(
  value: string | undefined,
  shape: RegExp,
  maxLength = 128,
): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed || trimmed.length > maxLength || !shape.test(trimmed)) return undefined;
  return trimmed;
}
