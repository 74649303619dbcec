import type { AccessLevelEntry, Catalog } from '../config/catalog-schema.js';

export interface LevelRef {
  readonly database: string;
  readonly level: string;
}

/** The level a `database`/`level` pair names, if the catalog has it. */
export function findLevel(catalog: Catalog, ref: LevelRef): AccessLevelEntry | undefined {
  const database = Object.hasOwn(catalog.databases, ref.database)
    ? catalog.databases[ref.database]
    : undefined;
  if (!database || !Object.hasOwn(database.levels, ref.level)) return undefined;
  return database.levels[ref.level];
}
