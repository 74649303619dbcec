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
  /** The schema of a 200 answer's `data`, where the description has one. */
  readonly responseSchema?: unknown;
}

export interface VaultCallToValidate {
  readonly method: string;
  /** Without `/v1`, e.g. `database/creds/jit-orders-read`. */
  readonly path: string;
  readonly body?: unknown;
  /** The answer, when it is checked too. */
  readonly status?: number;
  readonly response?: unknown;
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
      const ok = isRecord(operation.responses) ? operation.responses['200'] : undefined;
      const answer = isRecord(ok) && isRecord(ok.content) ? ok.content['application/json'] : undefined;
      operations.push({
        method: verb.toUpperCase(),
        template,
        segments: template.replace(/^\/|\/$/g, '').split('/'),
        ...(isRecord(content) && content.schema !== undefined ? { requestSchema: content.schema } : {}),
        ...(isRecord(answer) && answer.schema !== undefined ? { responseSchema: answer.schema } : {}),
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
    if (operation.method !== verb) continue;
    // A parameter at the end (a lease id, a prefix) takes the rest of the path, slashes and all,
    // as Vault's own path patterns (`.+`) do.
    const last = operation.segments.at(-1) ?? '';
    const tail = /^\{\w+\}$/.test(last) && !last.endsWith('_mount_path}');
    if (tail ? segments.length < operation.segments.length : operation.segments.length !== segments.length)
      continue;
    let literals = 0;
    const fits = operation.segments.every((segment, index) => {
      const actual =
        tail && index === operation.segments.length - 1
          ? segments.slice(index).join('/')
          : (segments[index] ?? '');
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

/**
 * Problems with a request (and, when given, its answer) against the description; empty when it
 * conforms. An error answer must be Vault's `{"errors": [strings]}`; a 200 answer's `data` must
 * fit the operation's response schema where the description has one.
 */
export function validateVaultRequest(call: VaultCallToValidate, spec: VaultSpec = loadVaultSpec()): string[] {
  const label = `${call.method} ${call.path}`;
  const operation = findVaultOperation(spec, call.method, call.path);
  if (!operation) return [`${label}: no such operation in the Vault API description`];
  return [
    ...requestProblems(spec, operation, call, label),
    ...responseProblems(spec, operation, call, label),
  ];
}

function requestProblems(
  spec: VaultSpec,
  operation: VaultOperationSpec,
  call: VaultCallToValidate,
  label: string,
): string[] {
  if (operation.requestSchema === undefined || call.body === undefined) return [];
  const validate = validators(spec, `${operation.method} ${operation.template}`, () =>
    ajvFor(spec).compile(rebaseRefs(operation.requestSchema, SPEC_ID) as object),
  );
  if (validate(call.body)) return [];
  return (validate.errors ?? []).map(
    (error) => `${label}: body${error.instancePath || ''} ${error.message ?? 'is invalid'}`,
  );
}

function responseProblems(
  spec: VaultSpec,
  operation: VaultOperationSpec,
  call: VaultCallToValidate,
  label: string,
): string[] {
  if (call.status === undefined) return [];
  if (call.status >= 400) {
    const errors = isRecord(call.response) ? call.response.errors : undefined;
    return Array.isArray(errors) && errors.every((e) => typeof e === 'string')
      ? []
      : [`${label}: a ${call.status} answer without Vault's {"errors": [...]} body`];
  }
  if (call.status !== 200 || operation.responseSchema === undefined || !isRecord(call.response)) return [];
  // Wrapped answers carry wrap_info instead of data.
  if (call.response.wrap_info) return [];
  const validate = validators(spec, `answer ${operation.method} ${operation.template}`, () =>
    ajvFor(spec).compile(
      answerSchema(rebaseRefs(inlined(spec, operation.responseSchema), SPEC_ID)) as object,
    ),
  );
  if (validate(withoutNulls(call.response.data))) return [];
  return (validate.errors ?? []).map(
    (error) => `${label}: answer data${error.instancePath || ''} ${error.message ?? 'is invalid'}`,
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

/*
 * Two places where the generated description and Vault's real answers part, per Vault's source
 * and its documented samples (notes/vault-scheduler.md): a duration-typed field is answered in
 * whole seconds (TypeDurationSecond; `creation_ttl: 600`), and a field with no value is `null`
 * (`last_renewal: null` before any renewal). Answers are held to the rest.
 */
function answerSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(answerSchema);
  if (!isRecord(schema)) return schema;
  if (schema.type === 'string' && schema.format === 'duration') return { type: ['string', 'integer'] };
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, answerSchema(value)]));
}

function withoutNulls(data: unknown): unknown {
  if (!isRecord(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== null));
}

/** The component a top-level `$ref` names, so answerSchema can adjust its fields. */
function inlined(spec: VaultSpec, schema: unknown): unknown {
  const ref = isRecord(schema) && typeof schema.$ref === 'string' ? schema.$ref : undefined;
  const name = ref?.match(/^#\/components\/schemas\/(.+)$/)?.[1];
  const schemas = isRecord(spec.components.schemas) ? spec.components.schemas : {};
  return name && schemas[name] !== undefined ? schemas[name] : schema;
}
