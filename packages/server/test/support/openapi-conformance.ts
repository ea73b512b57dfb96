import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Holds every response a test receives to the server's own /openapi.json: the status must be
 * documented for the operation, the media type must be one documented for that status, and
 * the body must match its schema. Wired into test/support/server.ts, so every suite that talks
 * to a test server checks the document as a side effect and the document cannot drift from
 * what the server answers (issue 12 item 4).
 *
 * Requests to undocumented paths or methods (404, 405, hidden routes such as the console) are
 * outside the document and not checked.
 */

interface MediaType {
  schema?: object;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
export interface Operation {
  operationId?: string;
  parameters?: { in: string; name: string; required?: boolean; schema?: object }[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses?: Record<string, ResponseObject>;
  security?: Record<string, string[]>[];
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, object> };
}

export interface ResponseToCheck {
  readonly method: string;
  /** The request path, with or without a query string. */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** A path template as a regular expression; literal segments rank before parameters. */
function templateOf(path: string): { regex: RegExp; params: number } {
  let params = 0;
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      if (/^\{[^}]+\}$/.test(part)) {
        params += 1;
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { regex: new RegExp(`^${source}$`), params };
}

export class OpenApiConformance {
  readonly #document: OpenApiDocument;
  readonly #templates: { path: string; regex: RegExp; params: number }[];
  readonly #ajv: Ajv2020;
  /** Compiled once per distinct schema (the document repeats the problem schema on every route). */
  readonly #validators = new Map<string, ValidateFunction>();
  /** How many responses were held to the document. */
  checked = 0;

  constructor(document: OpenApiDocument) {
    this.#document = structuredClone(document);
    this.#templates = Object.keys(this.#document.paths)
      .map((path) => ({ path, ...templateOf(path) }))
      .sort((a, b) => a.params - b.params);
    this.#ajv = addFormats.default(new Ajv2020({ strict: false, allErrors: true, validateFormats: true }));
    for (const [name, schema] of Object.entries(this.#document.components?.schemas ?? {})) {
      this.#ajv.addSchema(schema, `#/components/schemas/${name}`);
    }
  }

  get document(): OpenApiDocument {
    return this.#document;
  }

  /** The documented operation for a method and a concrete path, if any. */
  operationOf(method: string, path: string): { template: string; operation: Operation } | undefined {
    const bare = path.split('?')[0] as string;
    const m = method.toLowerCase();
    for (const template of this.#templates) {
      if (!template.regex.test(bare)) continue;
      const operation = this.#document.paths[template.path]?.[m];
      if (operation) return { template: template.path, operation };
    }
    return undefined;
  }

  #validator(schema: object): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.#validators.get(key);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#validators.set(key, validate);
    }
    return validate;
  }

  /** What is wrong with a response, measured against the document; empty when it conforms. */
  problemsWith(response: ResponseToCheck): string[] {
    const found = this.operationOf(response.method === 'HEAD' ? 'GET' : response.method, response.path);
    if (!found) return [];
    this.checked += 1;
    const where = `${response.method} ${found.template} answered ${response.status}`;
    const responses = found.operation.responses ?? {};
    const documented =
      responses[String(response.status)] ?? responses[`${String(response.status)[0]}XX`] ?? responses['default'];
    if (!documented) return [`${where}, which /openapi.json does not document (documented: ${Object.keys(responses).join(', ')})`];
    const content = documented.content ?? {};
    const mediaTypes = Object.keys(content);
    const media = response.contentType?.split(';')[0]?.trim().toLowerCase() ?? null;
    if (response.method === 'HEAD' || response.text === '') {
      // No body: right when none is documented, or the documented one is empty or null.
      const allowsEmpty =
        mediaTypes.length === 0 ||
        // JSON Lines of no line: an export that matched nothing.
        (media === 'application/x-ndjson' && mediaTypes.includes(media)) ||
        Object.values(content).some((m) => {
          const schema = m.schema as { type?: unknown; maxLength?: number } | undefined;
          return schema === undefined || schema.type === 'null' || schema.maxLength === 0 || (schema.type === 'string' && response.method === 'HEAD');
        });
      return allowsEmpty || response.method === 'HEAD' ? [] : [`${where} with an empty body; documented: ${mediaTypes.join(', ')}`];
    }
    if (media === null) return [`${where} with a body but no Content-Type`];
    if (!mediaTypes.includes(media)) return [`${where} as ${media}; documented: ${mediaTypes.join(', ') || 'no body'}`];
    const schema = content[media]?.schema;
    if (!schema) return [];
    let body: unknown = response.text;
    if (media === 'application/json' || media.endsWith('+json')) {
      try {
        body = JSON.parse(response.text);
      } catch {
        return [`${where} with a body that is not JSON although ${media}`];
      }
    } else if (media === 'application/x-ndjson') {
      // JSON Lines: the documented schema is that of each line.
      const validateLine = this.#validator(schema);
      for (const [index, line] of response.text.split('\n').filter(Boolean).entries()) {
        let item: unknown;
        try {
          item = JSON.parse(line);
        } catch {
          return [`${where} with line ${index + 1} not JSON although ${media}`];
        }
        if (!validateLine(item)) return [`${where} with line ${index + 1} not matching its schema: ${JSON.stringify(validateLine.errors?.slice(0, 3))}`];
      }
      return [];
    }
    const validate = this.#validator(schema);
    if (validate(body)) return [];
    const issues = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    return [`${where} with a body that does not match its schema: ${issues.join('; ')}`];
  }

  /** Throws when a response does not conform, naming every difference. */
  assertConforms(response: ResponseToCheck): void {
    const problems = this.problemsWith(response);
    if (problems.length > 0) throw new OpenApiDriftError(problems, response.text);
  }
}

/** A response the document does not describe: the document or the server is wrong. */
export class OpenApiDriftError extends Error {
  constructor(problems: string[], text: string) {
    super(`/openapi.json drift: ${problems.join('\n')}\nbody: ${text.slice(0, 500)}`);
    this.name = 'OpenApiDriftError';
  }
}

export const operationMethods = methods;
