import type { Selectable } from 'kysely';
import type { ApiToken } from '../core/model.js';
import type { TokenView } from '../core/store.js';
import type { Database } from './schema.js';

export type TokenRow = Selectable<Database['api_tokens']>;

export function toToken(row: Selectable<Database['api_tokens']>): ApiToken {
  return {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    createdBy: row.created_by,
    name: row.name,
    mode: row.mode,
    scopeKind: row.scope_kind,
    endpoints: row.endpoints,
    roles: row.roles,
    ipAllowlist: row.ip_allowlist,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const toView = (row: TokenRow): TokenView => ({
  ...toToken(row),
  ownerUsername: row.owner_username,
  recentIps: (row.recent_ips ?? []).map((entry) => ({ ip: entry.ip, lastSeenAt: new Date(entry.at) })),
});

