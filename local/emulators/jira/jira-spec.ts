import {
  isRecord,
  rebaseRefs,
  type SpecAvailability,
  specAvailability,
  specLoader,
  validatorCache,
} from '../spec-documents.js';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** The repository root: this file lives in <root>/local/emulators/jira/. */
export const REPOSITORY_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * The vendor descriptions live next to the repository (../shared/specs), not in it, so a plain
 * clone has no copy; contract tests then skip and say why.
 */
export const DEFAULT_JIRA_SPEC_PATH = resolve(
  REPOSITORY_ROOT,
  '../shared/specs/jira-platform-openapi-v3.json',
);

export interface JiraParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: unknown;
}

export interface JiraOperationSpec {
  operationId: string;
  method: string;
  template: string;
  deprecated: boolean;
  parameters: JiraParameterSpec[];
  requestBody?: { required: boolean; schema: unknown };
  /** Response schemas by status code ("200", "400", "default"), where the description gives one. */
  responses: Map<string, unknown>;
}

export interface JiraPlatformSpec {
  path: string;
  operations: JiraOperationSpec[];
  components: Record<string, unknown>;
}

/** The least a recorded request must carry to be checked (the emulator's RecordedJiraCall fits). */
export interface JiraRequestToValidate {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** Decoded query parameters; a parameter sent twice has two values. */
  query: Record<string, string[]>;
  /** The parsed JSON body, if any. */
  body?: unknown;
  /** Lower-cased request headers; when given, content-type is checked for bodies. */
  headers?: Record<string, string>;
}

export type JiraSpecAvailability = SpecAvailability;

export function jiraSpecAvailable(path: string = DEFAULT_JIRA_SPEC_PATH): JiraSpecAvailability {
  return specAvailability('Jira platform REST description', path, loadJiraSpec);
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Parses the OpenAPI 3 description once per path (it is 2.4 MB). */
export function loadJiraSpec(path: string = DEFAULT_JIRA_SPEC_PATH): JiraPlatformSpec {
  return loadJiraSpecOnce(path);
}

const loadJiraSpecOnce = specLoader((document, path): JiraPlatformSpec => {
  if (
    !isRecord(document) ||
    typeof document.openapi !== 'string' ||
    !document.openapi.startsWith('3.') ||
    !isRecord(document.paths)
  ) {
    throw new Error('not an OpenAPI 3 document with paths');
  }
  const components = isRecord(document.components) ? document.components : {};
  const operations: JiraOperationSpec[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    if (!isRecord(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const verb of HTTP_METHODS) {
      const operation = item[verb];
      if (!isRecord(operation)) continue;
      const parameters: JiraParameterSpec[] = [];
      for (const raw of [...shared, ...(Array.isArray(operation.parameters) ? operation.parameters : [])]) {
        const parameter = resolveRef(raw, document);
        if (!isRecord(parameter) || typeof parameter.name !== 'string' || typeof parameter.in !== 'string')
          continue;
        parameters.push({
          name: parameter.name,
          in: parameter.in as JiraParameterSpec['in'],
          required: parameter.required === true,
          schema: parameter.schema ?? {},
        });
      }
      let requestBody: JiraOperationSpec['requestBody'];
      const body = resolveRef(operation.requestBody, document);
      if (isRecord(body)) {
        const json = isRecord(body.content) ? body.content['application/json'] : undefined;
        requestBody = { required: body.required === true, schema: isRecord(json) ? (json.schema ?? {}) : {} };
      }
      const responses = new Map<string, unknown>();
      for (const [status, raw] of Object.entries(isRecord(operation.responses) ? operation.responses : {})) {
        const response = resolveRef(raw, document);
        const json =
          isRecord(response) && isRecord(response.content) ? response.content['application/json'] : undefined;
        if (isRecord(json) && json.schema !== undefined) responses.set(status, json.schema);
      }
      operations.push({
        operationId:
          typeof operation.operationId === 'string' ? operation.operationId : `${verb} ${template}`,
        method: verb.toUpperCase(),
        template,
        deprecated: operation.deprecated === true,
        parameters,
        requestBody,
        responses,
      });
    }
  }
  return { path, operations, components };
});

/**
 * The operation a request is for: the path template that matches with the most literal segments,
 * so /rest/api/3/issue/createmeta wins over /rest/api/3/issue/{issueIdOrKey}.
 */
export function findJiraOperation(
  method: string,
  path: string,
  spec: JiraPlatformSpec = loadJiraSpec(),
): { operation: JiraOperationSpec; pathParams: Record<string, string> } | undefined {
  const segments = path.replace(/\/+$/, '').split('/');
  let best:
    { operation: JiraOperationSpec; pathParams: Record<string, string>; literals: number } | undefined;
  for (const operation of spec.operations) {
    if (operation.method !== method.toUpperCase()) continue;
    const templateSegments = operation.template.split('/');
    if (templateSegments.length !== segments.length) continue;
    const pathParams: Record<string, string> = {};
    let literals = 0;
    let matched = true;
    templateSegments.forEach((segment, index) => {
      const actual = segments[index] ?? '';
      const parameter = /^\{(.+)\}$/.exec(segment);
      if (parameter?.[1]) {
        if (actual === '') matched = false;
        pathParams[parameter[1]] = safeDecode(actual);
      } else if (segment === actual) {
        literals += 1;
      } else {
        matched = false;
      }
    });
    if (matched && (!best || literals > best.literals)) best = { operation, pathParams, literals };
  }
  return best && { operation: best.operation, pathParams: best.pathParams };
}

/**
 * Problems with a request against the documented operation; empty when it conforms. Checks that
 * the operation exists and is not deprecated, path and query parameters (required, documented,
 * typed; array parameters may be comma-separated, as Jira takes them), and the JSON body against
 * its schema with $refs resolved, refusing properties the description marks read-only.
 */
export function validateJiraRequest(
  request: JiraRequestToValidate,
  spec: JiraPlatformSpec = loadJiraSpec(),
): string[] {
  const label = `${request.method.toUpperCase()} ${request.path}`;
  const found = findJiraOperation(request.method, request.path, spec);
  if (!found) return [`${label}: no such operation in the Jira platform REST description`];
  const { operation, pathParams } = found;
  const name = `${operation.method} ${operation.template}`;
  const problems: string[] = [];
  if (operation.deprecated) problems.push(`${name}: the operation is deprecated (${operation.operationId})`);

  for (const parameter of operation.parameters) {
    if (parameter.in === 'path') {
      const value = pathParams[parameter.name];
      problems.push(
        ...parameterProblems(spec, operation, parameter, value === undefined ? [] : [value], name),
      );
    }
  }
  const documentedQuery = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'query') continue;
    const values = request.query[parameter.name] ?? [];
    if (values.length === 0) {
      if (parameter.required) problems.push(`${name}: missing required query parameter ${parameter.name}`);
      continue;
    }
    problems.push(...parameterProblems(spec, operation, parameter, values, name));
  }
  for (const parameterName of Object.keys(request.query)) {
    if (!documentedQuery.has(parameterName)) {
      problems.push(`${name}: query parameter ${parameterName} is not documented for this operation`);
    }
  }

  const body = request.body;
  if (operation.requestBody) {
    if (body === undefined) {
      if (operation.requestBody.required) problems.push(`${name}: missing required JSON body`);
    } else {
      const contentType = request.headers?.['content-type'];
      if (request.headers && !(contentType && /^application\/json\b/i.test(contentType))) {
        problems.push(`${name}: body sent as ${contentType ?? 'no content-type'}, not application/json`);
      }
      const validate = compiled(
        spec,
        `request:${operation.operationId}`,
        operation.requestBody.schema,
        'request',
      );
      if (!validate(body)) problems.push(...ajvProblems(`${name}: body`, validate));
    }
  } else if (body !== undefined) {
    problems.push(`${name}: the operation takes no body`);
  }
  return problems;
}

/**
 * Problems with a response body against the schema documented for its status; empty when it
 * conforms or when the description documents no JSON schema for that status.
 */
export function validateJiraResponse(
  request: { method: string; path: string },
  response: { status: number; body: unknown },
  spec: JiraPlatformSpec = loadJiraSpec(),
): string[] {
  const found = findJiraOperation(request.method, request.path, spec);
  if (!found)
    return [`${request.method} ${request.path}: no such operation in the Jira platform REST description`];
  const { operation } = found;
  const status = String(response.status);
  const schema = operation.responses.get(status) ?? operation.responses.get('default');
  if (schema === undefined) return [];
  const validate = compiled(spec, `response:${operation.operationId}:${status}`, schema, 'response');
  if (validate(response.body)) return [];
  return ajvProblems(`${operation.method} ${operation.template}: ${status} response`, validate);
}

/**
 * Problems with a value against one of the description's component schemas (`ChangeDetails`,
 * `UserDetails`, `IssueBean`...), read as a response: what Jira sends, so read-only properties are
 * allowed. Empty when it conforms. For payloads no operation returns, such as webhook bodies.
 */
export function validateJiraSchema(
  schemaName: string,
  value: unknown,
  spec: JiraPlatformSpec = loadJiraSpec(),
): string[] {
  const schemas = isRecord(spec.components.schemas) ? spec.components.schemas : {};
  if (!(schemaName in schemas)) {
    return [`${schemaName}: no such component schema in the Jira platform REST description`];
  }
  const ref = `#/components/schemas/${schemaName.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  const validate = compiled(spec, `schema:${schemaName}`, { $ref: ref }, 'response');
  if (validate(withoutPrototypes(value))) return [];
  return ajvProblems(schemaName, validate);
}

/**
 * A copy whose objects have no prototype. ajv reads properties with `data.name`, so an object
 * without its own `toString` (a property ChangeDetails has) would show Object.prototype's function.
 */
function withoutPrototypes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrototypes);
  if (!isRecord(value)) return value;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) copy[key] = withoutPrototypes(item);
  return copy;
}

// ---- internals ----------------------------------------------------------------------------

type Mode = 'request' | 'response';
const SPEC_ID = 'jira-platform.json';
const validators = validatorCache<JiraPlatformSpec>();
const ajvs = new WeakMap<JiraPlatformSpec, Record<Mode, Ajv>>();

// ajv-formats is CommonJS; under NodeNext its default import is the module object on some
// toolchains and the plugin function on others.
const addFormats = (typeof addFormatsModule === 'function'
  ? addFormatsModule
  : (addFormatsModule as unknown as { default: typeof addFormatsModule }).default) as unknown as (
  ajv: Ajv,
) => Ajv;

function ajvFor(spec: JiraPlatformSpec, mode: Mode): Ajv {
  let pair = ajvs.get(spec);
  if (!pair) {
    pair = { request: newAjv(spec, 'request'), response: newAjv(spec, 'response') };
    ajvs.set(spec, pair);
  }
  return pair[mode];
}

function newAjv(spec: JiraPlatformSpec, mode: Mode): Ajv {
  // Not strict: OpenAPI adds keywords JSON Schema does not have (`example`, `xml`, `discriminator`).
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // ajv-formats' `url` refuses loopback hosts; a `self` link on the emulator is one.
  ajv.addFormat('url', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
  if (mode === 'request') {
    // A request must not carry what the description marks read-only (ids Jira assigns, `self`...).
    ajv.removeKeyword('readOnly');
    ajv.addKeyword({
      keyword: 'readOnly',
      schemaType: 'boolean',
      error: { message: 'is read-only and must not be sent' },
      validate: (readOnly: boolean) => !readOnly,
    });
  }
  ajv.addSchema({ $id: SPEC_ID, components: spec.components });
  return ajv;
}

function compiled(spec: JiraPlatformSpec, key: string, schema: unknown, mode: Mode): ValidateFunction {
  // Operation schemas point at `#/components/...` of the whole document, which is registered as SPEC_ID.
  return validators(spec, key, () =>
    ajvFor(spec, mode).compile(rebaseRefs(isRecord(schema) ? schema : {}, SPEC_ID) as object),
  );
}

function parameterProblems(
  spec: JiraPlatformSpec,
  operation: JiraOperationSpec,
  parameter: JiraParameterSpec,
  values: string[],
  name: string,
): string[] {
  if (values.length === 0) {
    return parameter.required
      ? [`${name}: missing required ${parameter.in} parameter ${parameter.name}`]
      : [];
  }
  const schema = isRecord(parameter.schema) ? parameter.schema : {};
  const isArray = schema.type === 'array';
  if (!isArray && values.length > 1) {
    return [
      `${name}: ${parameter.in} parameter ${parameter.name} is sent ${values.length} times but takes one value`,
    ];
  }
  const itemSchema = isArray && isRecord(schema.items) ? schema.items : schema;
  const coerced = isArray
    ? values.flatMap((value) => value.split(',')).map((value) => coerce(value, itemSchema))
    : coerce(values[0] ?? '', schema);
  const validate = compiled(
    spec,
    `param:${operation.operationId}:${parameter.in}:${parameter.name}`,
    schema,
    'request',
  );
  if (validate(coerced)) return [];
  return ajvProblems(`${name}: ${parameter.in} parameter ${parameter.name}`, validate);
}

/** Query and path values are text; read them as the schema's scalar type before validating. */
function coerce(value: string, schema: Record<string, unknown>): unknown {
  if (schema.type === 'integer' && /^-?\d+$/.test(value)) return Number(value);
  if (schema.type === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (schema.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function ajvProblems(prefix: string, validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((error) => {
    const where = error.instancePath || '';
    const extra =
      error.keyword === 'additionalProperties' && isRecord(error.params)
        ? ` (${String(error.params.additionalProperty)})`
        : '';
    return `${prefix}${where} ${error.message ?? 'is invalid'}${extra}`;
  });
}

function resolveRef(node: unknown, document: Record<string, unknown>): unknown {
  if (!isRecord(node) || typeof node.$ref !== 'string' || !node.$ref.startsWith('#/')) return node;
  let current: unknown = document;
  for (const segment of node.$ref.slice(2).split('/')) {
    current = isRecord(current) ? current[segment.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return current;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
