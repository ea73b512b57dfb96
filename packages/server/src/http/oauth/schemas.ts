/** Schemas shared by the OAuth endpoints, for the OpenAPI document. */

export const oauthErrorSchema = {
  type: 'object',
  description: 'RFC 6749 §5.2 error',
  required: ['error'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
} as const;

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
