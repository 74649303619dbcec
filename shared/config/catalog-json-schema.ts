import * as z from 'zod';
import { CATALOG_NAME_PATTERN, catalogSchema } from './catalog-schema.js';

export const CATALOG_JSON_SCHEMA_PATH = 'schema/jit-access.config.schema.json';

/**
 * The catalog's JSON Schema, for editor completion (yaml-language-server). Generated from the zod
 * schema so the two never drift; rules only code can check (default ≤ max, placeholders) stay in zod.
 */
export function catalogJsonSchemaText(): string {
  const schema = z.toJSONSchema(catalogSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    // Catalog names are checked beside zod's record keys (see namedRecord); editors still get the rule.
    override: ({ jsonSchema }) => {
      if (jsonSchema.type === 'object' && jsonSchema.propertyNames && jsonSchema.additionalProperties) {
        jsonSchema.propertyNames = { type: 'string', pattern: CATALOG_NAME_PATTERN.source };
      }
    },
  });
  const document = {
    ...schema,
    $id: 'https://jit-access.dev/schema/jit-access.config.schema.json',
    title: 'jit-access catalog (jit-access.config.yaml)',
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
