import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as z from 'zod';
import { contractOf, errorBody, ERROR_STATUSES, rejectionBody, sharedSchemas, TAGS, type RouteContract } from '#lib/http/contracts.ts';
import { BusinessCodes } from '#lib/domain/errors.ts';
import { routeKey, routes, type Route } from '#lib/routes.ts';

/**
 * `npm run openapi`: writes docs/openapi.json (OpenAPI 3.1.0) from the zod schemas the handlers
 * validate with (`handler.contract.input`) and the response contracts of lib/http/contracts.ts.
 * JSON Schema draft 2020-12 (OpenAPI 3.1's dialect) by zod's own `z.toJSONSchema`. Needs neither
 * DynamoDB nor AWS: the handler modules are imported with a dummy table name and never invoked.
 * tests/unit/openapi.test.ts fails when the file is stale.
 */

export const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const SECURITY_SCHEME = 'bearerJwt';
const METHOD_ORDER = ['get', 'post', 'delete'] as const;

/** What the handler modules read at import (lib/config.ts, the SDK client): dummies, nothing is called. */
const IMPORT_ENV: Record<string, string> = {
  TABLE_NAME: 'openapi-generation',
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

type Json = Record<string, unknown>;

/** `group-fav-add` → `groupFavAdd` (operationId) / `GroupFavAdd` (component names). */
const camel = (handler: string) => handler.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const pascal = (handler: string) => camel(handler).replace(/^./, (c) => c.toUpperCase());
const ref = (kind: 'schemas' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** The input schema each route's handler declares (imports the handler modules; runs nothing). */
export const loadInputs = async (): Promise<Map<string, z.core.$ZodType>> => {
  for (const [name, value] of Object.entries(IMPORT_ENV)) process.env[name] ??= value;
  const inputs = new Map<string, z.core.$ZodType>();
  for (const route of routes) {
    const module = (await import(`#functions/${route.handler}.ts`)) as { handler?: { contract?: { input?: unknown } } };
    const input = module.handler?.contract?.input;
    if (!(input instanceof z.core.$ZodType)) throw new Error(`${routeKey(route)}: functions/${route.handler}.ts exports no handler.contract.input (use endpoint())`);
    inputs.set(routeKey(route), input);
  }
  return inputs;
};

/** Recursively sorts object keys (component and path maps), leaving arrays in order. */
const sortedKeys = (value: Json): Json => Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const withoutMeta = (schema: Json): Json => {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
};

/**
 * zod's JSON Schema, less what only adds noise: the ±2^53−1 bounds of every integer, and the
 * regular expression beside `format: date-time`.
 */
const JSON_SCHEMA_OPTIONS = {
  target: 'draft-2020-12',
  io: 'input',
  unrepresentable: 'throw',
  override: ({ jsonSchema }: { jsonSchema: Json }) => {
    if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  },
} as const;

/** JSON Schema of one input, as a client sends it (`io: 'input'`: before preprocessing and transforms). */
const inputJsonSchema = (schema: z.core.$ZodType): Json => withoutMeta(z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as Json);

const pathParams = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);

/** GET: one parameter per property of the input (path parameters from the route, the rest from the query string). */
const parametersOf = (route: Route, input: z.core.$ZodType): Json[] => {
  const schema = inputJsonSchema(input) as { properties?: Record<string, Json>; required?: string[] };
  const inPath = pathParams(route.path);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property as Json & { description?: string };
    return {
      name,
      in: inPath.includes(name) ? 'path' : 'query',
      required: inPath.includes(name) || (schema.required ?? []).includes(name),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    };
  });
};

const json = (schema: Json) => ({ 'application/json': { schema } });

const okResponse = (name: string, c: RouteContract): Json => {
  const success = ref('schemas', name);
  if (c.business.length === 0) return { description: 'Success', content: json(success) };
  return {
    description: `Success, or a business rejection in HTTP 200 (code ${c.business.join(', ')})`,
    content: json({ anyOf: [success, ...c.business.map((code) => ref('schemas', `Rejected${code}`))] }),
  };
};

const responsesOf = (name: string, c: RouteContract): Json => {
  const responses: Json = { '200': okResponse(name, c) };
  for (const status of [...c.errors].sort((a, b) => a - b)) {
    if (status !== 401) responses[String(status)] = ref('responses', `Error${status}`);
  }
  responses['401'] = c.errors.includes(401)
    ? {
        description: 'No or bad token (the authorizer), or the caller lacks the role (`{code: 401, message}`)',
        content: json({ anyOf: [ref('schemas', 'Unauthorized'), ref('schemas', 'Error401')] }),
      }
    : ref('responses', 'Unauthorized');
  responses['500'] = ref('responses', 'InternalError');
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
};

/** The whole OpenAPI 3.1 document (deterministic: the same code gives the same JSON). */
export const openApiDocument = async (): Promise<Json> => {
  const inputs = await loadInputs();
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(sharedSchemas)) registry.add(schema, { id });
  for (const status of ERROR_STATUSES) registry.add(errorBody(status), { id: `Error${status}` });
  const businessCodes = [...new Set(routes.flatMap((r) => contractOf(routeKey(r)).business))].sort((a, b) => a - b);
  for (const code of businessCodes) registry.add(rejectionBody(code), { id: `Rejected${code}` });

  const shared = new Map<z.ZodType, string>(Object.entries(sharedSchemas).map(([id, schema]) => [schema, id]));
  const operations: { route: Route; operation: Json }[] = [];
  for (const route of routes) {
    const key = routeKey(route);
    const c = contractOf(key);
    const input = inputs.get(key) as z.core.$ZodType;
    const name = pascal(route.handler);
    const successName = shared.get(c.ok) ?? registry.get(c.ok)?.id ?? `${name}Success`;
    if (!registry.has(c.ok)) registry.add(c.ok, { id: successName });
    let request: Json;
    if (route.method === 'GET') {
      request = { parameters: parametersOf(route, input) };
    } else {
      registry.add(input, { id: `${name}Request` });
      const required = ((inputJsonSchema(input).required as string[] | undefined) ?? []).length > 0;
      request = { requestBody: { required, content: json(ref('schemas', `${name}Request`)) } };
    }
    operations.push({
      route,
      operation: {
        operationId: camel(route.handler),
        summary: c.summary,
        tags: [c.tag],
        security: [{ [SECURITY_SCHEME]: [] }],
        ...request,
        responses: responsesOf(successName, c),
      },
    });
  }

  const generated = z.toJSONSchema(registry, { ...JSON_SCHEMA_OPTIONS, uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  const schemas = sortedKeys(Object.fromEntries(Object.entries(generated.schemas).map(([id, schema]) => [id, withoutMeta(schema)])));

  const paths: Record<string, Json> = {};
  for (const { route, operation } of operations) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  for (const [path, item] of Object.entries(paths)) {
    paths[path] = Object.fromEntries(METHOD_ORDER.filter((m) => m in item).map((m) => [m, item[m]]));
  }

  const errorResponses = Object.fromEntries(
    ERROR_STATUSES.map((status) => [`Error${status}`, { description: `HTTP ${status} \`{code, message}\``, content: json(ref('schemas', `Error${status}`)) }]),
  );
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: 'SealTalk group service',
      version,
      description: [
        'The SealTalk group HTTP API, served by one AWS Lambda per route (lib/routes.ts). Generated by `npm run openapi` from the',
        "handlers' zod input schemas and lib/http/contracts.ts; do not edit by hand.",
        '',
        'Success is HTTP 200 `{"code":200,"result":...}` (no `result` when there is nothing to return). Errors are',
        '`{"code":<status>,"message":"<field>: <what was wrong>"}` with that HTTP status; the business codes',
        `(${Object.values(BusinessCodes).join(', ')}) are HTTP 200 with that \`code\`. A missing or bad token is HTTP 401`,
        '`{"message":"Unauthorized"}`. Fields named `*Time` or `timestamp` are epoch ms numbers, `*At` fields ISO strings.',
        'See docs/decisions.md.',
      ].join('\n'),
    },
    servers: [{ url: '/' }],
    security: [{ [SECURITY_SCHEME]: [] }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths: sortedKeys(paths),
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "API Gateway's JWT authorizer; the token's `sub` is the caller",
        },
      },
      responses: sortedKeys({
        ...errorResponses,
        Unauthorized: { description: 'No or bad token (the JWT authorizer)', content: json(ref('schemas', 'Unauthorized')) },
        InternalError: { description: 'An unexpected failure (a bug; quote `requestId`)', content: json(ref('schemas', 'InternalError')) },
      }),
      schemas,
    },
  };
};

/** The file's content: 2-space JSON and a trailing newline. */
export const openApiText = async (): Promise<string> => `${JSON.stringify(await openApiDocument(), null, 2)}\n`;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = await openApiText();
  writeFileSync(OPENAPI_FILE, text);
  const operations = Object.values(JSON.parse(text).paths as Record<string, Json>).reduce((n, item) => n + Object.keys(item).length, 0);
  process.stdout.write(`docs/openapi.json written (${operations} operations)\n`);
}
