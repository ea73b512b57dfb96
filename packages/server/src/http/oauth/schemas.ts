/** Schemas shared by the OAuth endpoints, for the OpenAPI document. */

export const oauthErrorSchema = {
  type: 'object',
  description: 'RFC 6749 §5.2 error',
  required: ['error'],
  properties: {
    error: { type: 'string' },
    // §5.2: printable ASCII without `"` and `\` (error-mapper.ts sanitizeErrorDescription).
    error_description: { type: 'string', pattern: '^[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]*$' },
  },
} as const;

/** An OAuth error answer as served (RFC 6749 §5.2: application/json). */
export const oauthErrorResponse = {
  description: 'RFC 6749 §5.2 error',
  content: { 'application/json': { schema: oauthErrorSchema } },
} as const;

/**
 * The errors every form endpoint may answer: a bad request, failed client authentication, and
 * the edge's refusals of an oversize body (413) or a charset other than UTF-8 (415).
 */
export const oauthErrorResponses = { 400: oauthErrorResponse, 401: oauthErrorResponse, 413: oauthErrorResponse, 415: oauthErrorResponse } as const;

/**
 * Documents a form body. Validation is done by hand (formParams) because RFC 6749 rules —
 * empty means absent, repeats are refused — are not JSON Schema rules.
 */
export function formRequestSchema(properties: Record<string, object>, required: string[]) {
  return {
    consumes: ['application/x-www-form-urlencoded'],
    body: { type: 'object', properties, required },
  };
}

/** Route option: the body schema above documents; `formParams` validates. */
export const documentOnly = { validatorCompiler: () => () => true } as const;
