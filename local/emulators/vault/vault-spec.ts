import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { REPOSITORY_ROOT } from '../jira/jira-spec.js';
import {
  isRecord,
  rebaseRefs,
  type SpecAvailability,
  specAvailability,
  specLoader,
  validatorCache,
} from '../spec-documents.js';

/*
 * Vault's published OpenAPI description (1.15), for holding the emulator and jit-access's calls to
 * it: every request goes to an operation the description has, with a body its schema accepts.
 * Mount paths are parameters there (`/{database_mount_path}/creds/{name}`); a request names the
 * default mount (`database`, `aws`), so `<engine>_mount_path` matches only `<engine>`.
 */

export const DEFAULT_VAULT_SPEC_PATH = resolve(REPOSITORY_ROOT, '../shared/specs/vault-openapi.json');

export interface VaultSpec {
  readonly path: string;
  readonly operations: readonly VaultOperationSpec[];
  readonly components: Record<string, unknown>;
}

interface VaultOperationSpec {
  readonly method: string;
  readonly template: string;
  readonly segments: readonly string[];
  readonly requestSchema?: unknown;
}

export interface VaultCallToValidate {
  readonly method: string;
  /** Without `/v1`, e.g. `database/creds/jit-orders-read`. */
  readonly path: string;
  readonly body?: unknown;
}

export function vaultSpecAvailable(path: string = DEFAULT_VAULT_SPEC_PATH): SpecAvailability {
  return specAvailability('Vault API description', path, loadVaultSpec);
}

/** Parses the OpenAPI 3 description once per path (it is 5 MB). */
export function loadVaultSpec(path: string = DEFAULT_VAULT_SPEC_PATH): VaultSpec {
  return loadVaultSpecOnce(path);
}

const VERBS = ['get', 'post', 'put', 'delete'];

const loadVaultSpecOnce = specLoader((document, path): VaultSpec => {
  if (!isRecord(document) || typeof document.openapi !== 'string' || !isRecord(document.paths)) {
    throw new Error('not an OpenAPI 3 document with paths');
  }
  const operations: VaultOperationSpec[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    if (!isRecord(item)) continue;
    for (const verb of VERBS) {
      const operation = item[verb];
      if (!isRecord(operation)) continue;
      const body = isRecord(operation.requestBody) ? operation.requestBody : undefined;
      const content = body && isRecord(body.content) ? body.content['application/json'] : undefined;
      operations.push({
        method: verb.toUpperCase(),
        template,
        segments: template.replace(/^\/|\/$/g, '').split('/'),
        ...(isRecord(content) && content.schema !== undefined ? { requestSchema: content.schema } : {}),
      });
    }
  }
  return { path, operations, components: isRecord(document.components) ? document.components : {} };
});

/** The operation a request is for: the matching template with the most literal segments. */
export function findVaultOperation(
  spec: VaultSpec,
  method: string,
  path: string,
): VaultOperationSpec | undefined {
  const segments = path.replace(/^\/|\/$/g, '').split('/');
  // Vault's PUT and POST are the same update; the description lists POST.
  const verb = method.toUpperCase() === 'PUT' ? 'POST' : method.toUpperCase();
  let best: { operation: VaultOperationSpec; literals: number } | undefined;
  for (const operation of spec.operations) {
    if (operation.method !== verb || operation.segments.length !== segments.length) continue;
    let literals = 0;
    const fits = operation.segments.every((segment, index) => {
      const actual = segments[index] ?? '';
      const mount = /^\{(\w+)_mount_path\}$/.exec(segment)?.[1];
      if (mount) return actual === mount;
      if (/^\{\w+\}$/.test(segment)) return actual !== '';
      literals += 1;
      return segment === actual;
    });
    if (fits && (!best || literals > best.literals)) best = { operation, literals };
  }
  return best?.operation;
}

/** Problems with a request against the description; empty when it conforms. */
export function validateVaultRequest(call: VaultCallToValidate, spec: VaultSpec = loadVaultSpec()): string[] {
  const label = `${call.method} ${call.path}`;
  const operation = findVaultOperation(spec, call.method, call.path);
  if (!operation) return [`${label}: no such operation in the Vault API description`];
  if (operation.requestSchema === undefined || call.body === undefined) return [];
  const validate = validators(spec, `${operation.method} ${operation.template}`, () =>
    ajvFor(spec).compile(rebaseRefs(operation.requestSchema, SPEC_ID) as object),
  );
  if (validate(call.body)) return [];
  return (validate.errors ?? []).map(
    (error) => `${label}: body${error.instancePath || ''} ${error.message ?? 'is invalid'}`,
  );
}

const SPEC_ID = 'vault.json';
const validators = validatorCache<VaultSpec>();
const ajvs = new WeakMap<VaultSpec, Ajv>();

function ajvFor(spec: VaultSpec): Ajv {
  let ajv = ajvs.get(spec);
  if (!ajv) {
    // Not strict: OpenAPI adds keywords JSON Schema does not have (`x-vault-displayAttrs`, `format: seconds`…).
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: SPEC_ID, components: spec.components });
    ajvs.set(spec, ajv);
  }
  return ajv;
}
