/**
 * The CLI's client of Tessera's REST API (`/api/v1`), the only way CLI commands reach the
 * service. Its calls go through @tessera/client, so paths and bodies are the wire format as
 * /openapi.json describes them; one file per resource under client/. Failures become an
 * {@link ApiError} (the server answered with a problem) or a {@link ConnectionError} (it did
 * not answer).
 */
import { appsOf } from './client/apps.js';
import { auditOf, backupOf } from './client/audit.js';
import { orgsOf } from './client/orgs.js';
import { policyOf } from './client/policy.js';
import { groupsOf, rolesOf, serviceAccountsOf, usersOf } from './client/principals.js';
import { sessionCalls } from './client/sessions.js';
import { tokensOf } from './client/tokens.js';
import { Transport, type ClientOptions } from './client/transport.js';

export type { App, AppWithSecret, AuditEvent, AuditQuery, Group, LoginResult, Me, Org, Policy, Principal, Role, Token, TokenListQuery, TokenStatus, TokenWithSecret } from '@tessera/client';
// The commands' names for the bodies of changes.
export type { UpdateApp as AppInput, UpdateGroup as GroupInput, UpdateToken as TokenInput, UpdateUser as UpdatePrincipal } from '@tessera/client';
export type { AuditExportQuery } from './client/audit.js';
export type { CreatedOrg } from './client/orgs.js';
export type { Collection, Page } from './client/principals.js';
export type { SecondFactorEnrolment } from './client/sessions.js';
export type { RevokedAll } from './client/tokens.js';
export { ApiError, ConnectionError, type ClientOptions } from './client/transport.js';

/**
 * @example
 * ```ts
 * const client = new TesseraClient({ baseUrl: 'http://127.0.0.1:8080', sessionToken });
 * const { items } = await client.tokens.list({ all: true, status: 'active' });
 * ```
 */
export class TesseraClient {
  readonly #transport: Transport;
  readonly baseUrl: string;
  readonly login;
  readonly beginSecondFactorAtLogin;
  readonly changePasswordAtLogin;
  readonly logout;
  readonly me;
  readonly users;
  readonly serviceAccounts;
  readonly groups;
  readonly roles;
  readonly orgs;
  readonly apps;
  readonly tokens;
  readonly policy;
  readonly audit;

  constructor(options: ClientOptions) {
    const transport = new Transport(options);
    this.#transport = transport;
    this.baseUrl = transport.baseUrl;
    ({
      login: this.login,
      beginSecondFactorAtLogin: this.beginSecondFactorAtLogin,
      changePasswordAtLogin: this.changePasswordAtLogin,
      logout: this.logout,
      me: this.me,
    } = sessionCalls(transport));
    this.users = usersOf(transport);
    this.serviceAccounts = serviceAccountsOf(transport);
    this.groups = groupsOf(transport);
    this.roles = rolesOf(transport);
    this.orgs = orgsOf(transport);
    this.apps = appsOf(transport);
    this.tokens = tokensOf(transport);
    this.policy = policyOf(transport);
    this.audit = auditOf(transport);
  }

  /** The embedded database as a gzipped tar (`GET /backup`), streamed as it arrives. */
  backup(): Promise<{ body: ReadableStream<Uint8Array>; done: () => void }> {
    return backupOf(this.#transport);
  }
}
