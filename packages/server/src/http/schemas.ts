import { Type, type TSchema } from '@sinclair/typebox';
import { ENDPOINT_PATTERN_LIMITS, ENDPOINT_PATTERN_SHAPE, IP_ALLOWLIST_LIMITS, IP_ENTRY_SHAPE, RELATIVE_DURATION_PATTERN } from '@tessera/rules';
import { passwordRules } from '../core/auth.js';
import type { Group, Org, Role } from '../core/model.js';
import type { GroupView, PrincipalView } from '../core/directory/index.js';
import { allRights } from '../core/rights.js';

/** Schemas shared by several routes. Each route's own schemas live beside it. */

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    field: Type.Optional(Type.String({ description: 'The request field at fault' })),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    request_id: Type.String(),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

/** A problem answer as served: RFC 9457 §3, media type application/problem+json. */
export const problemResponse = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: Problem } },
} as const;

/** Request line or headers too large: answered before routing, for any operation (finishDocument). */
const headersTooLarge = {
  description: 'Request line or headers over 16 KiB (RFC 6585 §5), refused before routing: RFC 9457 problem details',
  content: { 'application/problem+json': { schema: Problem } },
};

/** The error answers every authenticated route may give. */
export const problemResponses = {
  400: problemResponse,
  401: problemResponse,
  403: problemResponse,
  404: problemResponse,
  409: problemResponse,
  413: problemResponse,
  415: problemResponse,
  429: problemResponse,
} as const;

/** Where a schema keeps the rules it documents but leaves to the domain (see {@link withDomainRules}). */
export const domainRulesKey = 'x-domain-rules';

/**
 * Adds to a schema, for the OpenAPI document only, constraints that the domain enforces with
 * messages of its own (a password's length, a policy's ranges, the shape of an expiry or an
 * allowlist entry). The request validator ignores the key (Ajv runs with strict: false), so a
 * refusal keeps the rule's message, which names the fix; app.ts merges the key into the
 * published document, so a client generated from it knows every rule (issue 12 item 4).
 */
export function withDomainRules<T extends TSchema>(schema: T, rules: Record<string, unknown>): T {
  return { ...schema, [domainRulesKey]: rules };
}

/**
 * Finishes the OpenAPI document, in place: merges every {@link withDomainRules} key into its
 * schema, and marks the body of an action whose options are all optional ({@link optionalBody})
 * as not required, as the server takes it (app.ts validators).
 */
export function finishDocument<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, { requestBody?: { required?: boolean; content?: Record<string, { schema?: Record<string, unknown> }> }; responses?: Record<string, unknown> }>> }).paths ?? {};
  for (const operation of Object.values(paths).flatMap((operations) => Object.values(operations))) {
    // Node refuses a request line or headers over its limit before any route runs, and the
    // input guard answers it as a problem (RFC 6585 §5), so every operation may answer 431.
    if (operation.responses) operation.responses['431'] ??= headersTooLarge;
    const media = Object.values(operation.requestBody?.content ?? {});
    if (operation.requestBody && media.some((m) => m.schema?.[optionalBody] === true)) {
      operation.requestBody.required = false;
      for (const m of media) delete m.schema?.[optionalBody];
    }
  }
  return mergeDomainRules(document);
}

/** Merges every {@link withDomainRules} key into its schema, in place; returns the document. */
function mergeDomainRules<T>(document: T): T {
  const stack: unknown[] = [document];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node === null || typeof node !== 'object') continue;
    const record = node as Record<string, unknown>;
    const rules = record[domainRulesKey];
    if (rules !== undefined) {
      delete record[domainRulesKey];
      Object.assign(record, rules);
    }
    stack.push(...Object.values(record));
  }
  return document;
}

export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const Timestamp = Type.String({ format: 'date-time' });
export const Username = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$',
  description: 'Letters, digits and . _ @ -, starting with a letter or digit',
});
export const DisplayName = Type.String({ minLength: 1, maxLength: 200 });
export const Email = Type.String({ format: 'email', maxLength: 254 });
/** A password presented to log in: whatever was set, so no minimum beyond one character. */
export const Password = Type.String({ minLength: 1, maxLength: passwordRules.maxLength });
/** A password being set: the length rule of core/auth.ts, checked there with its own message. */
export const NewPassword = withDomainRules(Type.String({ minLength: 1, maxLength: passwordRules.maxLength, description: `${passwordRules.minLength} to ${passwordRules.maxLength} characters` }), {
  minLength: passwordRules.minLength,
});
export const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]*$' });
export const RoleNames = Type.Array(RoleName, { maxItems: 50 });
/** One allowlist entry; its shape is documented, @tessera/rules checks it and names the fix. */
export const IpEntry = withDomainRules(Type.String({ minLength: 1, maxLength: IP_ALLOWLIST_LIMITS.maxLength }), { pattern: IP_ENTRY_SHAPE });
export const IpAllowlist = Type.Array(IpEntry, {
  maxItems: IP_ALLOWLIST_LIMITS.maxItems,
  description: 'IPv4/IPv6 addresses, CIDRs or ranges (a-b); empty allows any address',
});
/** One endpoint pattern of a scope or preset; @tessera/rules checks it and names the fix. */
export const EndpointPattern = withDomainRules(Type.String({ minLength: 1, maxLength: ENDPOINT_PATTERN_LIMITS.maxLength }), { pattern: ENDPOINT_PATTERN_SHAPE });
/** A relative duration such as 30D (SPEC 3.4), parsed by @tessera/rules. */
export const RelativeDuration = (description: string) =>
  withDomainRules(Type.String({ minLength: 1, maxLength: 20, description }), { pattern: RELATIVE_DURATION_PATTERN });
/** Preset names, as the presets file and organization presets both require (config/config.ts). */
export const presetNamePattern = '^[a-z0-9][a-z0-9_-]*$';
export const Right = Type.Union(allRights.map((right) => Type.Literal(right)));

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Case-insensitive search' })),
  },
  { additionalProperties: false },
);

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  });
}

export const PrincipalBody = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('user'), Type.Literal('service_account')]),
  username: Type.String(),
  display_name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  instance_admin: Type.Boolean(),
  roles: Type.Array(Type.String()),
  ip_allowlist: Type.Array(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  password_changed_at: Type.Union([Timestamp, Type.Null()]),
  org_id: Type.String(),
});

export function principalBody(p: PrincipalView) {
  return {
    id: p.id,
    kind: p.kind,
    username: p.username,
    display_name: p.displayName,
    email: p.email,
    status: p.status,
    instance_admin: p.instanceAdmin,
    roles: [...p.roles],
    ip_allowlist: [...p.ipAllowlist],
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    password_changed_at: p.passwordChangedAt?.toISOString() ?? null,
    org_id: p.orgId,
  };
}

export const RoleBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  rights: Type.Array(Type.String()),
  builtin: Type.Boolean(),
  created_at: Timestamp,
});

export function roleBody(role: Role) {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    rights: [...role.rights],
    builtin: role.builtin,
    created_at: role.createdAt.toISOString(),
  };
}

export const GroupBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  members: Type.Array(Type.String(), { description: 'Principal ids' }),
  roles: Type.Array(Type.String()),
  created_at: Timestamp,
});

export function groupBody(group: GroupView | (Group & { members: string[]; roles: string[] })) {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    members: [...group.members],
    roles: [...group.roles],
    created_at: group.createdAt.toISOString(),
  };
}

export const OrgBody = Type.Object({ id: Type.String(), name: Type.String(), display_name: Type.String(), created_at: Timestamp });

export function orgBody(org: Org) {
  return { id: org.id, name: org.name, display_name: org.displayName, created_at: org.createdAt.toISOString() };
}

export const bearerSecurity: { [scheme: string]: string[] }[] = [{ bearer: [] }, { session_cookie: [] }];

/** Marks a body schema that may also be absent (actions whose options are all optional). */
export const optionalBody = 'x-optional-body';
