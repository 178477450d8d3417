import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { loadInputs, OPENAPI_FILE, openApiDocument, openApiText } from '#infra/openapi.ts';
import { contracts, responseSchemas, routesWithoutContract } from '#lib/http/contracts.ts';
import { routeKey, routes } from '#lib/routes.ts';

/**
 * docs/openapi.json: generated from the handlers' zod inputs and lib/http/contracts.ts, complete
 * (every route), fresh, structurally valid OpenAPI 3.1, every operation behind the bearer JWT.
 * No DynamoDB: the handler modules are imported, never invoked.
 */

type Json = Record<string, unknown>;

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses?: Record<string, Json>;
}

interface Document {
  openapi: string;
  jsonSchemaDialect?: string;
  info: { title?: unknown; version?: unknown };
  servers?: { url?: unknown }[];
  security?: Record<string, string[]>[];
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, Json>;
    schemas: Record<string, Json>;
    responses: Record<string, Json>;
  };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let doc: Document;
let fresh: string;

beforeAll(async () => {
  fresh = await openApiText();
  doc = JSON.parse(fresh) as Document;
}, 60_000);

const operationOf = (method: string, path: string): Operation | undefined => doc.paths[path]?.[method.toLowerCase()];

/** Every `$ref` anywhere in `value`. */
const refsIn = (value: unknown, out: string[] = []): string[] => {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
};

/** Resolves a local JSON pointer (`#/components/schemas/X`) in the document. */
const resolve = (pointer: string): unknown =>
  pointer
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (typeof node === 'object' && node !== null ? (node as Json)[part] : undefined), doc);

const operations = (): { path: string; method: string; op: Operation }[] =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

describe('the OpenAPI document covers every route', () => {
  it('has a response contract for every route of lib/routes.ts, and none for a route that does not exist', () => {
    expect(routesWithoutContract(), 'routes without a contract in lib/http/contracts.ts').toEqual([]);
    expect(Object.keys(contracts).sort()).toEqual(routes.map(routeKey).sort());
  });

  it("reads every handler's input schema from its contract (endpoint() attaches it)", async () => {
    const inputs = await loadInputs();
    for (const route of routes) expect(inputs.get(routeKey(route)), `${routeKey(route)}: no handler.contract.input`).toBeInstanceOf(z.core.$ZodType);
  }, 60_000);

  it('has one operation per route, with a request schema and a 200 response schema', () => {
    expect(operations()).toHaveLength(routes.length);
    for (const route of routes) {
      const key = routeKey(route);
      const op = operationOf(route.method, route.path);
      expect(op, `${key}: no operation in docs/openapi.json`).toBeDefined();
      if (route.method === 'GET') {
        expect(op?.requestBody, `${key}: a GET has no body`).toBeUndefined();
        expect(Array.isArray(op?.parameters), `${key}: no parameters`).toBe(true);
        for (const p of op?.parameters ?? []) expect(p.schema, `${key}: parameter ${p.name} has no schema`).toBeTypeOf('object');
      } else {
        const schema = op?.requestBody?.content?.['application/json']?.schema;
        expect(schema, `${key}: no request body schema`).toBeDefined();
        expect(resolve(String(schema?.$ref)), `${key}: request schema ${String(schema?.$ref)} missing`).toBeTypeOf('object');
      }
      const ok = op?.responses?.['200'] as { content?: Record<string, { schema?: Json }> } | undefined;
      expect(ok?.content?.['application/json']?.schema, `${key}: no 200 response schema`).toBeDefined();
    }
  });

  it("declares exactly the statuses of the route's contract (200, its errors, 401, 500)", () => {
    for (const route of routes) {
      const key = routeKey(route);
      const declared = Object.keys(operationOf(route.method, route.path)?.responses ?? {}).map(Number);
      expect(declared, key).toEqual([...responseSchemas(key).keys()]);
    }
  });

  it('declares the path parameters of each route, and the query parameters of GET inputs', () => {
    const members = operationOf('GET', '/group/{id}/members');
    expect(members?.parameters?.map((p) => [p.name, p.in, p.required])).toEqual([
      ['id', 'path', true],
      ['limit', 'query', false],
      ['cursor', 'query', false],
    ]);
    expect(operationOf('GET', '/group/get_bulletin')?.parameters?.map((p) => p.name)).toEqual(['groupId', 'id']);
    // A body-less POST is allowed where the input requires nothing (clear_notice).
    expect(operationOf('POST', '/group/clear_notice')?.requestBody?.required).toBe(false);
    expect(operationOf('POST', '/group/create')?.requestBody?.required).toBe(true);
  });
});

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` generates now', () => {
    const onDisk = readFileSync(OPENAPI_FILE, 'utf8');
    expect(onDisk === fresh, 'docs/openapi.json is stale: run npm run openapi').toBe(true);
  });

  it('is deterministic: two generations are byte-identical', async () => {
    expect(`${JSON.stringify(await openApiDocument(), null, 2)}\n`).toBe(fresh);
  }, 60_000);
});

describe('the document is structurally valid OpenAPI 3.1', () => {
  it('has the required top-level fields', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.info.title).toBeTypeOf('string');
    expect(doc.info.version).toBeTypeOf('string');
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });

  it('has well-formed paths and operations', () => {
    const ids = new Set<string>();
    const tags = new Set((doc.tags ?? []).map((t) => t.name));
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(HTTP_METHODS, where).toContain(method);
        expect(op.operationId, where).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
        expect(ids.has(op.operationId as string), `${where}: duplicate operationId`).toBe(false);
        ids.add(op.operationId as string);
        for (const tag of op.tags ?? []) expect(tags, `${where}: undeclared tag ${tag}`).toContain(tag);
        const params = op.parameters ?? [];
        expect(new Set(params.map((p) => `${p.in}:${p.name}`)).size, `${where}: duplicate parameters`).toBe(params.length);
        for (const p of params) {
          expect(['query', 'header', 'path', 'cookie'], where).toContain(p.in);
          if (p.in === 'path') expect(p.required, `${where}: path parameter ${p.name} must be required`).toBe(true);
        }
        // Every templated segment is a path parameter, and every path parameter is templated.
        expect(params.filter((p) => p.in === 'path').map((p) => p.name).sort(), where).toEqual([...templated].sort());
        if (op.requestBody) expect(Object.keys(op.requestBody.content ?? {}).length, `${where}: requestBody without content`).toBeGreaterThan(0);
        const responses = Object.entries(op.responses ?? {});
        expect(responses.length, `${where}: no responses`).toBeGreaterThan(0);
        for (const [status, response] of responses) {
          expect(status, where).toMatch(/^[1-5](\d\d|XX)$/);
          const target = (typeof response.$ref === 'string' ? resolve(response.$ref) : response) as Json | undefined;
          expect(target?.description, `${where} ${status}: a response needs a description`).toBeTypeOf('string');
        }
      }
    }
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) {
      expect(r.startsWith('#/'), r).toBe(true);
      expect(resolve(r), `unresolved ${r}`).toBeTypeOf('object');
    }
  });

  it('has component names OpenAPI allows, and schemas without $schema/$id of their own', () => {
    for (const kind of ['schemas', 'responses', 'securitySchemes'] as const) {
      for (const name of Object.keys(doc.components[kind])) expect(name, `components.${kind}`).toMatch(/^[a-zA-Z0-9.\-_]+$/);
    }
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(schema.$schema, name).toBeUndefined();
      expect(schema.$id, name).toBeUndefined();
    }
  });
});

describe('the response contracts encode the details clients rely on (docs/decisions.md)', () => {
  const accepts = (key: string, status: number, body: unknown) => responseSchemas(key).get(status)?.safeParse(body).success;
  const now = 1_700_000_000_000;

  it('get_bulletin: a numeric id, ms timestamp, no groupId; 402 when none', () => {
    expect(accepts('GET /group/get_bulletin', 200, { code: 200, result: { id: 3, content: 'hi', timestamp: now } })).toBe(true);
    expect(accepts('GET /group/get_bulletin', 200, { code: 200, result: { id: '3', content: 'hi', timestamp: now } })).toBe(false);
    expect(accepts('GET /group/get_bulletin', 200, { code: 200, result: { id: 3, content: 'hi', timestamp: now, groupId: 'g' } })).toBe(false);
    expect(accepts('GET /group/get_bulletin', 200, { code: 200, result: { id: 3, content: 'hi', timestamp: new Date(now).toISOString() } })).toBe(false);
    expect(accepts('GET /group/get_bulletin', 402, { code: 402, message: 'No group bulletin.' })).toBe(true);
  });

  it('copy_group: business codes in HTTP 200 without a result', () => {
    for (const code of [20004, 20005, 20006, 20007, 1000]) expect(accepts('POST /group/copy_group', 200, { code, message: 'm' }), String(code)).toBe(true);
    expect(accepts('POST /group/copy_group', 200, { code: 20006, message: 'No Group', result: 'x' })).toBe(false);
    expect(accepts('POST /group/copy_group', 200, { code: 20001, message: 'm' })).toBe(false);
  });

  it('get_member_info: memberDesc is an array', () => {
    const card = { groupNickname: '', region: '', phone: '', WeChat: '', Alipay: '' };
    expect(accepts('POST /group/get_member_info', 200, { code: 200, result: { ...card, memberDesc: [] } })).toBe(true);
    expect(accepts('POST /group/get_member_info', 200, { code: 200, result: { ...card, memberDesc: '' } })).toBe(false);
  });

  it('errors: the envelope with the status as code; the authorizer 401; 401 with a code only where the domain answers it', () => {
    expect(accepts('POST /group/kick', 403, { code: 403, message: 'm' })).toBe(true);
    expect(accepts('POST /group/kick', 403, { code: 10000, message: 'm' })).toBe(false);
    expect(accepts('POST /group/kick', 401, { message: 'Unauthorized' })).toBe(true);
    expect(accepts('POST /group/kick', 401, { code: 401, message: 'm' })).toBe(false);
    expect(accepts('POST /group/set_manager', 401, { code: 401, message: 'No permission to set up an manager.' })).toBe(true);
    expect(accepts('POST /group/kick', 500, { code: 500, message: 'internal error', requestId: 'r' })).toBe(true);
    expect(responseSchemas('POST /group/kick').has(402)).toBe(false);
  });
});

describe('security', () => {
  it('defines the bearer JWT scheme', () => {
    expect(doc.components.securitySchemes.bearerJwt).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.security).toEqual([{ bearerJwt: [] }]);
  });

  it('applies it to every operation, which also declares the 401', () => {
    for (const { path, method, op } of operations()) {
      expect(op.security, `${method} ${path}`).toEqual([{ bearerJwt: [] }]);
      expect(op.responses?.['401'], `${method} ${path}`).toBeDefined();
    }
  });
});
