import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_JSON_SCHEMA_PATH, catalogJsonSchemaText } from '../shared/config/catalog-json-schema.js';

const target = join(import.meta.dirname, '..', CATALOG_JSON_SCHEMA_PATH);
const text = catalogJsonSchemaText();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== text) {
    process.stderr.write(
      `${CATALOG_JSON_SCHEMA_PATH} is out of date; run \`npm run schema\` and commit it\n`,
    );
    process.exitCode = 1;
  }
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${CATALOG_JSON_SCHEMA_PATH}\n`);
}
