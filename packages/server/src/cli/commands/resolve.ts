import { ApiError, type Page, type TesseraClient } from '../client.js';

/**
 * Commands take names where people think in names (alice, ci-bot, auditors) and the API takes
 * ids: a name is looked up by search and matched exactly; anything else is passed on as an id,
 * so the server's "not found" answers for it.
 */
async function byName<T extends { id: string }>(list: (q: string) => Promise<Page<T> | { items: T[] }>, ref: string, nameOf: (item: T) => string): Promise<string | undefined> {
  let items: T[];
  try {
    ({ items } = await list(ref));
  } catch (error) {
    // Not allowed to search (an org owner cannot list organizations): try it as an id.
    if (error instanceof ApiError && error.status === 403) return undefined;
    throw error;
  }
  return items.find((item) => nameOf(item) === ref)?.id;
}

export async function resolvePrincipal(client: TesseraClient, kind: 'user' | 'service_account', ref: string): Promise<string> {
  const collection = kind === 'user' ? client.users : client.serviceAccounts;
  return (await byName((q) => collection.list({ q, limit: 200 }), ref, (p) => p.username)) ?? ref;
}

/** A user or service account, by username or id (group members may be either). */
export async function resolveAnyPrincipal(client: TesseraClient, ref: string): Promise<string> {
  return (
    (await byName((q) => client.users.list({ q, limit: 200 }), ref, (p) => p.username)) ??
    (await byName((q) => client.serviceAccounts.list({ q, limit: 200 }), ref, (p) => p.username)) ??
    ref
  );
}

export async function resolveGroup(client: TesseraClient, ref: string): Promise<string> {
  return (await byName((q) => client.groups.list({ q, limit: 200 }), ref, (g) => g.name)) ?? ref;
}

export async function resolveRole(client: TesseraClient, ref: string): Promise<string> {
  return (await byName(() => client.roles.list(), ref, (r) => r.name)) ?? ref;
}

export async function resolveApp(client: TesseraClient, ref: string): Promise<string> {
  return (await byName((q) => client.apps.list({ q, limit: 200 }), ref, (a) => a.name)) ?? ref;
}

export async function resolveOrg(client: TesseraClient, ref: string): Promise<string> {
  return (await byName((q) => client.orgs.list({ q, limit: 200 }), ref, (o) => o.name)) ?? ref;
}
