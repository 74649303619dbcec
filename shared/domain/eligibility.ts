import type { AccessLevelEntry, Catalog } from '../config/catalog-schema.js';
import { normalizeDn } from './dn.js';

export interface LevelRef {
  readonly database: string;
  readonly level: string;
}

export interface EligibleLevel extends LevelRef {
  /** The catalog's group DN, as written there, that makes the user eligible. */
  readonly viaGroup: string;
}

export interface Eligibility {
  readonly requestable: readonly EligibleLevel[];
  readonly approvable: readonly EligibleLevel[];
}

/**
 * The user's groups as a set of normalised DNs. The directory resolves nesting; this module only
 * compares, so callers pass every group the user belongs to directly or through other groups.
 */
export class GroupMembership {
  private readonly dns: ReadonlySet<string>;

  constructor(groupDns: Iterable<string>) {
    this.dns = new Set([...groupDns].map(normalizeDn));
  }

  /** The first of `groups` (in catalog order) the user belongs to. */
  firstMatch(groups: readonly string[]): string | undefined {
    return groups.find((dn) => this.dns.has(normalizeDn(dn)));
  }
}

export function requesterGroupFor(level: AccessLevelEntry, membership: GroupMembership): string | undefined {
  return membership.firstMatch(level.requesterGroups);
}

export function approverGroupFor(level: AccessLevelEntry, membership: GroupMembership): string | undefined {
  return membership.firstMatch(level.approverGroups);
}

/** Which levels of the catalog a user may request and approve, in catalog order. */
export function evaluateEligibility(catalog: Catalog, membership: GroupMembership): Eligibility {
  const requestable: EligibleLevel[] = [];
  const approvable: EligibleLevel[] = [];
  for (const [database, entry] of Object.entries(catalog.databases)) {
    for (const [level, definition] of Object.entries(entry.levels)) {
      const asRequester = requesterGroupFor(definition, membership);
      if (asRequester) requestable.push({ database, level, viaGroup: asRequester });
      const asApprover = approverGroupFor(definition, membership);
      if (asApprover) approvable.push({ database, level, viaGroup: asApprover });
    }
  }
  return { requestable, approvable };
}

/** The level a `database`/`level` pair names, if the catalog has it. */
export function findLevel(catalog: Catalog, ref: LevelRef): AccessLevelEntry | undefined {
  const database = Object.hasOwn(catalog.databases, ref.database)
    ? catalog.databases[ref.database]
    : undefined;
  if (!database || !Object.hasOwn(database.levels, ref.level)) return undefined;
  return database.levels[ref.level];
}
