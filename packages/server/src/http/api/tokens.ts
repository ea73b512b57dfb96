import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { tokenSortColumns, type TokenSortColumn } from '../../core/store.js';
import type { TokenDetails } from '../../core/tokens/index.js';
import { actorContext } from '../request-context.js';
import { EXPIRY_INPUT_PATTERN } from '@tessera/rules';
import {
  EndpointPattern,
  IdParams,
  IpAllowlist,
  PageOf,
  RelativeDuration,
  RoleNames,
  Timestamp,
  bearerSecurity,
  optionalBody,
  presetNamePattern,
  problemResponses,
  withDomainRules,
} from '../schemas.js';

const TokenName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f]+$' });
const Expires = Type.Union([withDomainRules(Type.String({ minLength: 1, maxLength: 40 }), { pattern: EXPIRY_INPUT_PATTERN }), Type.Null()], {
  description: 'Relative (180D, 12h, 2M — M is 30 days, m minutes) or ISO 8601 (2027-01-31, 2027-01-31T10:00:00Z); null for no expiry where policy allows',
});
const Endpoints = Type.Array(EndpointPattern, { maxItems: 100, description: 'One endpoint pattern each: /plans, GET /clients, /reports/*' });
const Scope = Type.Object(
  {
    kind: withDomainRules(Type.String({ minLength: 1, maxLength: 64, description: 'all, custom, or a preset name (GET /api/v1/presets)' }), { pattern: presetNamePattern }),
    endpoints: Type.Optional(Endpoints) },
  { additionalProperties: false },
);

export const TokenBody = Type.Object({
  id: Type.String({ description: 'Public id; part of the token string' }),
  name: Type.String(),
  display_prefix: Type.String({ description: 'A non-secret prefix to recognise the token by' }),
  owner_id: Type.String(),
  owner: Type.String({ description: 'Owner username' }),
  created_by: Type.String(),
  mode: Type.Union([Type.Literal('refreshable'), Type.Literal('direct')]),
  scope: Type.Object({ kind: Type.String(), endpoints: Type.Array(Type.String()) }),
  roles: Type.Array(Type.String()),
  ip_allowlist: Type.Array(Type.String()),
  expires_at: Type.Union([Timestamp, Type.Null()], { description: 'Renewable-until for refreshable tokens, expiry for direct ones' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('idle'), Type.Literal('revoked')]),
  last_used_at: Type.Union([Timestamp, Type.Null()]),
  last_used_ip: Type.Union([Type.String(), Type.Null()]),
  recent_ips: Type.Array(Type.Object({ ip: Type.String(), last_seen_at: Timestamp }), { description: 'The last 5 distinct client addresses, newest first' }),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
  revoked_by: Type.Union([Type.String(), Type.Null()]),
  revoke_reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const CreatedBody = Type.Intersect([
  TokenBody,
  Type.Object({
    token: Type.String({ description: 'The API token. Shown only in this response: store it now' }),
    access_token: Type.Optional(Type.String({ description: 'For refreshable tokens: a first access token' })),
    expires_in: Type.Optional(Type.Integer()),
  }),
]);

export function tokenBody(token: TokenDetails) {
  return {
    id: token.id,
    name: token.name,
    display_prefix: token.displayPrefix,
    owner_id: token.ownerId,
    owner: token.ownerUsername,
    created_by: token.createdBy,
    mode: token.mode,
    scope: { kind: token.scopeKind, endpoints: [...token.endpoints] },
    roles: [...token.roles],
    ip_allowlist: [...token.ipAllowlist],
    expires_at: token.expiresAt?.toISOString() ?? null,
    status: token.status,
    last_used_at: token.lastUsedAt?.toISOString() ?? null,
    last_used_ip: token.lastUsedIp,
    recent_ips: token.recentIps.map((entry) => ({ ip: entry.ip, last_seen_at: entry.lastSeenAt.toISOString() })),
    revoked_at: token.revokedAt?.toISOString() ?? null,
    revoked_by: token.revokedBy,
    revoke_reason: token.revokeReason,
    created_at: token.createdAt.toISOString(),
    updated_at: token.updatedAt.toISOString(),
  };
}

const sortPattern = `^-?(${tokenSortColumns.join('|')})$`;

export const TokenListQuery = Type.Object(
  {
    all: Type.Optional(Type.Boolean({ description: 'Every token of the organization (needs tokens.all or auditor)' })),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Owner username or id' })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('idle'), Type.Literal('revoked')])),
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Scope kind: all, custom or a preset' })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Search token names and owner usernames: a substring, ignoring case, from 3 characters; a shorter term matches a whole name or username' })),
    usage: Type.Optional(Type.Literal('never_used')),
    unused_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Not used in this many days' })),
    used_since: Type.Optional(Timestamp),
    sort: Type.Optional(Type.String({ pattern: sortPattern, default: '-created_at', description: `Column, - for descending: ${tokenSortColumns.join(', ')}` })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);

/** `/tokens`: API tokens (SPEC 3.8). */
export function tokenRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Create an API token; the token is shown only in this response',
          description:
            'Refreshable tokens (scope all, custom, refreshable presets) also return a first access token. The default name is <owner>_api_token; the default and maximum expiry come from the policy.',
          security: bearerSecurity,
          body: Type.Object(
            {
              name: Type.Optional(TokenName),
              owner: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Username or id; needs tokens.create_for_others' })),
              expires: Type.Optional(Expires),
              scope: Scope,
              ip_allowlist: Type.Optional(IpAllowlist),
              roles: Type.Optional(RoleNames),
            },
            { additionalProperties: false },
          ),
          response: { 201: CreatedBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const ctx = actorContext(request, container);
        const body = request.body;
        const { token, secret } = await container.tokens.create(ctx, {
          name: body.name,
          owner: body.owner,
          expires: body.expires,
          scope: body.scope,
          ipAllowlist: body.ip_allowlist,
          roles: body.roles,
        });
        let access: { access_token?: string; expires_in?: number } = {};
        if (token.mode === 'refreshable') {
          const minted = await container.oauth.issueForToken(await container.tokens.exchangeable(token));
          access = { access_token: minted.token, expires_in: minted.expiresIn };
        }
        return reply.code(201).header('cache-control', 'no-store').send({ ...tokenBody(token), token: secret, ...access });
      },
    );

    app.get(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'List tokens: your own, or with all=true the organization\'s',
          security: bearerSecurity,
          querystring: TokenListQuery,
          response: { 200: PageOf(TokenBody), ...problemResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const sort = q.sort ?? '-created_at';
        const page = await container.tokens.list(actorContext(request, container), {
          all: q.all ?? false,
          owner: q.owner,
          status: q.status,
          kind: q.kind,
          q: q.q,
          usage: q.usage,
          unusedDays: q.unused_days,
          usedSince: q.used_since === undefined ? undefined : new Date(q.used_since),
          sort: sort.replace(/^-/, '') as TokenSortColumn,
          descending: sort.startsWith('-'),
          limit: q.limit ?? 50,
          cursor: q.cursor,
        });
        return { items: page.items.map(tokenBody), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/tokens/:id',
      { schema: { tags: ['tokens'], summary: 'Show a token (never its secret)', security: bearerSecurity, params: IdParams, response: { 200: TokenBody, ...problemResponses } } },
      async (request) => tokenBody(await container.tokens.get(actorContext(request, container), request.params.id)),
    );

    app.get(
      '/tokens/:id/usage',
      {
        schema: {
          tags: ['tokens'],
          summary: "A token's exchanges and denials at the token endpoint, per minute",
          description:
            'Counts per minute and outcome (success: an access token issued; denied: refused, each denial also in the audit log). Exchanges are counted here rather than audited one by one; a rotation is also audited. The window defaults to the last 24 hours and spans at most 7 days; counts reach here within about a second.',
          security: bearerSecurity,
          params: IdParams,
          querystring: Type.Object({ since: Type.Optional(Timestamp), until: Type.Optional(Timestamp) }, { additionalProperties: false }),
          response: {
            200: Type.Object({
              token_id: Type.String(),
              since: Timestamp,
              until: Timestamp,
              totals: Type.Object({ success: Type.Integer(), denied: Type.Integer() }),
              minutes: Type.Array(Type.Object({ minute: Timestamp, outcome: Type.Union([Type.Literal('success'), Type.Literal('denied')]), count: Type.Integer() })),
            }),
            ...problemResponses,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const usage = await container.tokenUsage.get(actorContext(request, container), request.params.id, {
          since: q.since === undefined ? undefined : new Date(q.since),
          until: q.until === undefined ? undefined : new Date(q.until),
        });
        return {
          token_id: usage.tokenId,
          since: usage.since.toISOString(),
          until: usage.until.toISOString(),
          totals: usage.totals,
          minutes: usage.minutes.map((m) => ({ minute: m.minute.toISOString(), outcome: m.outcome, count: m.count })),
        };
      },
    );

    app.patch(
      '/tokens/:id',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Edit a token',
          description: 'expires is the renewable-until time of refreshable tokens and the expiry of direct ones. The scope of direct tokens and of scope-locked presets cannot change.',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object(
            { name: Type.Optional(TokenName), expires: Type.Optional(Expires), scope: Type.Optional(Scope), ip_allowlist: Type.Optional(IpAllowlist), roles: Type.Optional(RoleNames) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: TokenBody, ...problemResponses },
        },
      },
      async (request) => {
        const body = request.body;
        return tokenBody(
          await container.tokens.update(actorContext(request, container), request.params.id, {
            name: body.name,
            expires: body.expires,
            scope: body.scope,
            ipAllowlist: body.ip_allowlist,
            roles: body.roles,
          }),
        );
      },
    );

    app.post(
      '/tokens/:id/rotate',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Rotate: a new secret, shown once; the old one works for the grace period, if any',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object({ grace: Type.Optional(RelativeDuration('e.g. 1h; at most 7D')) }, { additionalProperties: false, [optionalBody]: true }),
          response: { 200: Type.Intersect([TokenBody, Type.Object({ token: Type.String() })]), ...problemResponses },
        },
      },
      async (request, reply) => {
        const { token, secret } = await container.tokens.rotate(actorContext(request, container), request.params.id, request.body?.grace);
        return reply.header('cache-control', 'no-store').send({ ...tokenBody(token), token: secret });
      },
    );

    app.post(
      '/tokens/:id/revoke',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke (irreversible, idempotent); every access token minted from it stops working',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false, [optionalBody]: true }),
          response: { 200: TokenBody, ...problemResponses },
        },
      },
      async (request) => tokenBody(await container.tokens.revoke(actorContext(request, container), request.params.id, request.body?.reason)),
    );
  };
}
