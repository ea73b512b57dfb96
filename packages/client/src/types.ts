import type { HttpMethod, SuccessResponseJSON } from 'openapi-typescript-helpers';
import type { paths } from '../generated/openapi.js';

/** The paths of /openapi.json that have `M`. */
type PathWith<M extends HttpMethod> = { [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never }[keyof paths];

/** The operation object of `M` on `P`, in the shape openapi-typescript-helpers reads. */
type Op<P extends keyof paths, M extends HttpMethod> = paths[P] extends { [K in M]: infer O extends Record<string | number, unknown> } ? O : never;

/** The JSON success body of `M` on path `P`, e.g. `ResponseOf<'/api/v1/tokens/{id}', 'get'>`. */
export type ResponseOf<P extends PathWith<M>, M extends HttpMethod> = SuccessResponseJSON<Op<P, M>>;

/** The JSON request body of `M` on path `P`, whether the body is required or optional. */
export type BodyOf<P extends PathWith<M>, M extends HttpMethod> = RequestBodyOf<Op<P, M>>;

type RequestBodyOf<O> = O extends { requestBody?: infer R } ? (NonNullable<R> extends { content: { 'application/json': infer B } } ? B : never) : never;

/** The query parameters of `M` on path `P`. */
export type QueryOf<P extends PathWith<M>, M extends HttpMethod> = NonNullable<Op<P, M> extends { parameters: { query?: infer Q } } ? Q : never>;

// The resources of the management API by name, as /openapi.json describes them: the console and
// the CLI use these rather than declaring the wire format again.
export type Principal = ResponseOf<'/api/v1/users/{id}', 'get'>;
export type Me = ResponseOf<'/api/v1/me', 'get'>;
export type LoginResult = ResponseOf<'/api/v1/sessions', 'post'>;
export type Token = ResponseOf<'/api/v1/tokens/{id}', 'get'>;
export type TokenStatus = Token['status'];
/** A token with its secret: the answer to create and rotate, the only time the secret is sent. */
export type TokenWithSecret = ResponseOf<'/api/v1/tokens', 'post'>;
export type Policy = ResponseOf<'/api/v1/policy', 'get'>;
export type Role = ResponseOf<'/api/v1/roles/{id}', 'get'>;
export type Group = ResponseOf<'/api/v1/groups/{id}', 'get'>;
export type Org = ResponseOf<'/api/v1/orgs/{id}', 'get'>;
export type App = ResponseOf<'/api/v1/apps/{id}', 'get'>;
/** An app with its client secret: the answer to create and to a secret regeneration. */
export type AppWithSecret = ResponseOf<'/api/v1/apps', 'post'>;
export type Preset = ResponseOf<'/api/v1/presets', 'get'>['items'][number];
export type WebhookEndpoint = ResponseOf<'/api/v1/webhooks/{id}', 'get'>;
export type WebhookDelivery = ResponseOf<'/api/v1/webhooks/{id}/deliveries', 'get'>['items'][number];
export type SavedSearch = ResponseOf<'/api/v1/saved-searches', 'get'>['items'][number];
export type AuditEvent = ResponseOf<'/api/v1/audit-events', 'get'>['items'][number];

// What the management API takes, by name: request bodies and list queries.
export type LoginBody = BodyOf<'/api/v1/sessions', 'post'>;
/** The query of a plain list: `q`, `cursor`, `limit`. */
export type ListQuery = QueryOf<'/api/v1/users', 'get'>;
export type CreateUser = BodyOf<'/api/v1/users', 'post'>;
export type UpdateUser = BodyOf<'/api/v1/users/{id}', 'patch'>;
export type CreateServiceAccount = BodyOf<'/api/v1/service-accounts', 'post'>;
export type UpdateServiceAccount = BodyOf<'/api/v1/service-accounts/{id}', 'patch'>;
export type CreateGroup = BodyOf<'/api/v1/groups', 'post'>;
export type UpdateGroup = BodyOf<'/api/v1/groups/{id}', 'patch'>;
export type CreateRole = BodyOf<'/api/v1/roles', 'post'>;
export type UpdateRole = BodyOf<'/api/v1/roles/{id}', 'patch'>;
export type CreateOrg = BodyOf<'/api/v1/orgs', 'post'>;
export type CreateApp = BodyOf<'/api/v1/apps', 'post'>;
export type UpdateApp = BodyOf<'/api/v1/apps/{id}', 'patch'>;
export type CreateToken = BodyOf<'/api/v1/tokens', 'post'>;
/** A change to a token; on create, `scope` is required. */
export type UpdateToken = BodyOf<'/api/v1/tokens/{id}', 'patch'>;
export type TokenListQuery = QueryOf<'/api/v1/tokens', 'get'>;
export type RevokeAllTokens = BodyOf<'/api/v1/tokens/revoke-all', 'post'>;
/** Fields left out keep their value. */
export type PolicyChange = BodyOf<'/api/v1/policy', 'put'>;
export type AuditQuery = QueryOf<'/api/v1/audit-events', 'get'>;
