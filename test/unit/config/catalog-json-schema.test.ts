import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CATALOG_JSON_SCHEMA_PATH,
  catalogJsonSchemaText,
} from '../../../shared/config/catalog-json-schema.js';

describe('the committed JSON Schema of the catalog', () => {
  it('is what the zod schema generates (run `npm run schema` after changing the schema)', () => {
    const committed = readFileSync(
      join(import.meta.dirname, '..', '..', '..', CATALOG_JSON_SCHEMA_PATH),
      'utf8',
    );
    expect(committed).toBe(catalogJsonSchemaText());
  });

  it('describes durations and the level fields editors complete', () => {
    const schema = JSON.parse(catalogJsonSchemaText());
    const level = schema.properties.databases.additionalProperties.properties.levels.additionalProperties;
    expect(level.required).toEqual([
      'grants',
      'defaultDuration',
      'maxDuration',
      'requesterGroups',
      'approverGroups',
    ]);
    expect(level.properties.maxDuration.pattern).toBe('^[0-9]+[mhd]$');
    expect(level.additionalProperties).toBe(false);
  });
});
