import {
  isRecord,
  type SpecAvailability,
  specAvailability,
  specLoader,
  validatorCache,
} from '../spec-documents.js';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

/** The repository root: this file lives in <root>/local/emulators/slack/. */
export const REPOSITORY_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * The vendor descriptions live next to the repository (../shared/specs), not in it, so a plain
 * clone has no copy; contract tests then skip and say why.
 */
export const DEFAULT_SLACK_SPEC_PATH = resolve(REPOSITORY_ROOT, '../shared/specs/slack-web-openapi-v2.json');

/** Arguments Slack takes as a JSON-encoded string, and the JSON kind each must hold. */
const JSON_ENCODED_ARGUMENTS: Record<string, 'array' | 'object'> = {
  attachments: 'array',
  blocks: 'array',
  view: 'object',
};

export interface SlackParameterSpec {
  name: string;
  in: 'header' | 'query' | 'formData' | 'body' | 'path';
  required: boolean;
  type?: string;
  description?: string;
}

export interface SlackMethodSpec {
  method: string;
  httpMethods: string[];
  parameters: SlackParameterSpec[];
  /** Codes listed in the documented error response, when the description lists them. */
  documentedErrors: string[];
  successSchema?: unknown;
  errorSchema?: unknown;
}

export interface SlackWebSpec {
  path: string;
  methods: ReadonlyMap<string, SlackMethodSpec>;
  definitions: Record<string, unknown>;
}

/** The least a recorded call must carry to be checked (the emulator's RecordedSlackCall fits). */
export interface SlackCallToValidate {
  method: string;
  params: Record<string, unknown>;
  /** Set when the call authenticated with an Authorization header, which satisfies `token`. */
  token?: string;
  /**
   * How the arguments travelled. In form or query encoding every value is a string, so JSON
   * arguments must be JSON text; a JSON body may carry them as native arrays and objects.
   */
  encoding?: 'form' | 'json' | 'query';
}

export type SlackSpecAvailability = SpecAvailability;

export function slackSpecAvailable(path: string = DEFAULT_SLACK_SPEC_PATH): SlackSpecAvailability {
  return specAvailability('Slack Web API description', path, loadSlackSpec);
}

/** Parses the OpenAPI 2 description once per path (it is 1.2 MB). */
export function loadSlackSpec(path: string = DEFAULT_SLACK_SPEC_PATH): SlackWebSpec {
  return loadSlackSpecOnce(path);
}

const loadSlackSpecOnce = specLoader((document, path): SlackWebSpec => {
  if (!isRecord(document) || document.swagger !== '2.0' || !isRecord(document.paths)) {
    throw new Error('not an OpenAPI 2 (swagger 2.0) document with paths');
  }
  const methods = new Map<string, SlackMethodSpec>();
  for (const [path, operations] of Object.entries(document.paths)) {
    if (!isRecord(operations)) continue;
    const method = path.replace(/^\//, '');
    const spec: SlackMethodSpec = { method, httpMethods: [], parameters: [], documentedErrors: [] };
    for (const [verb, operation] of Object.entries(operations)) {
      if (!isRecord(operation)) continue;
      spec.httpMethods.push(verb.toUpperCase());
      for (const parameter of Array.isArray(operation.parameters) ? operation.parameters : []) {
        if (!isRecord(parameter) || typeof parameter.name !== 'string') continue;
        if (spec.parameters.some((known) => known.name === parameter.name)) continue;
        spec.parameters.push({
          name: parameter.name,
          in: parameter.in as SlackParameterSpec['in'],
          required: parameter.required === true,
          type: typeof parameter.type === 'string' ? parameter.type : undefined,
          description: typeof parameter.description === 'string' ? parameter.description : undefined,
        });
      }
      const responses = isRecord(operation.responses) ? operation.responses : {};
      const ok = responses['200'];
      const error = responses.default;
      if (isRecord(ok)) spec.successSchema = ok.schema;
      if (isRecord(error)) {
        spec.errorSchema = error.schema;
        const codes =
          isRecord(error.schema) && isRecord(error.schema.properties) && error.schema.properties.error;
        if (isRecord(codes) && Array.isArray(codes.enum)) {
          spec.documentedErrors = codes.enum.filter((code): code is string => typeof code === 'string');
        }
      }
    }
    methods.set(method, spec);
  }
  const definitions = isRecord(document.definitions) ? document.definitions : {};
  return { path, methods, definitions };
});

/**
 * Problems with a call against the method's documented parameters; empty when it conforms.
 * Checks presence of required parameters, that every argument is documented, scalar types as
 * they travel (form values are strings), and that JSON arguments hold the right JSON kind.
 */
export function validateSlackCall(call: SlackCallToValidate, spec: SlackWebSpec = loadSlackSpec()): string[] {
  const method = spec.methods.get(call.method);
  if (!method) return [`${call.method}: not a method in the Slack Web API description`];
  const problems: string[] = [];
  const documented = new Map(method.parameters.map((parameter) => [parameter.name, parameter]));

  for (const parameter of method.parameters) {
    if (!parameter.required) continue;
    // Slack takes the token as a Bearer header or, for form/query calls, a `token` argument.
    if (parameter.name === 'token' && (call.token !== undefined || call.params.token !== undefined)) continue;
    const value = call.params[parameter.name];
    if (value === undefined || value === null || value === '') {
      problems.push(`${call.method}: missing required parameter ${parameter.name}`);
    }
  }

  for (const [name, value] of Object.entries(call.params)) {
    if (value === undefined) continue;
    const parameter = documented.get(name);
    // Slack takes team_id on every method (it picks the workspace for org-wide apps), and
    // WebClient adds it whenever it knows the team, though the description lists it on few methods.
    if (!parameter && name === 'team_id') continue;
    if (!parameter) {
      problems.push(`${call.method}: parameter ${name} is not documented for this method`);
      continue;
    }
    const typeProblem = scalarTypeProblem(parameter, value, call.encoding);
    if (typeProblem) problems.push(`${call.method}: parameter ${name} ${typeProblem}`);
    const kind = JSON_ENCODED_ARGUMENTS[name];
    if (kind) {
      const jsonProblem = jsonEncodingProblem(value, kind, call.encoding);
      if (jsonProblem) problems.push(`${call.method}: parameter ${name} ${jsonProblem}`);
    }
  }
  return problems;
}

/**
 * Problems with a response body against the method's documented success (`ok: true`) or error
 * schema. The description's schemas are older than Slack today in places (see the contract test),
 * so callers decide which answers to hold to them.
 */
export function validateSlackResponse(
  method: string,
  body: unknown,
  spec: SlackWebSpec = loadSlackSpec(),
): string[] {
  const methodSpec = spec.methods.get(method);
  if (!methodSpec) return [`${method}: not a method in the Slack Web API description`];
  const ok = isRecord(body) && body.ok === true;
  const schema = ok ? methodSpec.successSchema : methodSpec.errorSchema;
  if (schema === undefined) return [`${method}: no documented ${ok ? 'success' : 'error'} schema`];
  const validate = compiledSchema(spec, `${method}#${ok ? 'ok' : 'error'}`, schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (error) => `${method}: response${error.instancePath || ''} ${error.message ?? 'is invalid'}`,
  );
}

export function documentedParameters(
  method: string,
  spec: SlackWebSpec = loadSlackSpec(),
): SlackParameterSpec[] {
  return spec.methods.get(method)?.parameters ?? [];
}

export function documentedErrors(method: string, spec: SlackWebSpec = loadSlackSpec()): string[] {
  return spec.methods.get(method)?.documentedErrors ?? [];
}

// ---- internals ----------------------------------------------------------------------------

const validators = validatorCache<SlackWebSpec>();
const ajvs = new WeakMap<SlackWebSpec, Ajv>();

function compiledSchema(spec: SlackWebSpec, key: string, schema: unknown): ValidateFunction {
  return validators(spec, key, () => compileSchema(spec, schema));
}

function compileSchema(spec: SlackWebSpec, schema: unknown): ValidateFunction {
  let ajv = ajvs.get(spec);
  if (!ajv) {
    // Not strict: the description carries keywords ajv's strict mode refuses (e.g. `title` next
    // to `$ref`), and they change nothing about what validates.
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
    ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
    ajvs.set(spec, ajv);
  }
  // The schemas point at `#/definitions/...` of the whole document; give each its own copy.
  return ajv.compile(
    itemsListsAsAnyOf({ ...(isRecord(schema) ? schema : {}), definitions: spec.definitions }) as object,
  );
}

/**
 * Slack's description writes "one of A or B" as `items: [A, B]` on a value that is not an array
 * (objs_user, objs_conversation, bot_id, tz, ...). JSON Schema ignores `items` there, which would
 * leave those objects unchecked, so read it as the `anyOf` it means.
 */
function itemsListsAsAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(itemsListsAsAnyOf);
  if (!isRecord(node)) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) copy[key] = itemsListsAsAnyOf(value);
  if (Array.isArray(copy.items) && copy.type !== 'array') {
    const { items, ...rest } = copy;
    return { ...rest, anyOf: items };
  }
  return copy;
}

function scalarTypeProblem(
  parameter: SlackParameterSpec,
  value: unknown,
  encoding: SlackCallToValidate['encoding'],
): string | undefined {
  const asText = encoding !== 'json';
  switch (parameter.type) {
    case 'string':
      if (typeof value === 'string') return undefined;
      // A JSON body may carry JSON arguments natively; jsonEncodingProblem judges those.
      if (!asText && JSON_ENCODED_ARGUMENTS[parameter.name] && typeof value === 'object') return undefined;
      return `must be a string, got ${describe(value)}`;
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return undefined;
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return undefined;
      return `must be an integer, got ${describe(value)}`;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return undefined;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        return undefined;
      return `must be a number, got ${describe(value)}`;
    case 'boolean':
      if (typeof value === 'boolean') return undefined;
      if (typeof value === 'string' && ['true', 'false', '1', '0'].includes(value)) return undefined;
      return `must be a boolean, got ${describe(value)}`;
    default:
      return undefined;
  }
}

function jsonEncodingProblem(
  value: unknown,
  kind: 'array' | 'object',
  encoding: SlackCallToValidate['encoding'],
): string | undefined {
  let decoded = value;
  if (typeof value === 'string') {
    try {
      decoded = JSON.parse(value);
    } catch {
      return `must be a JSON-encoded ${kind}, got text that is not JSON`;
    }
  } else if (encoding !== 'json') {
    return `must be a JSON-encoded ${kind} string, got ${describe(value)}`;
  }
  const fits = kind === 'array' ? Array.isArray(decoded) : isRecord(decoded);
  return fits ? undefined : `must be a JSON-encoded ${kind}, got ${describe(decoded)}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value;
}
