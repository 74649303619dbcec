import { existsSync } from 'node:fs';

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
