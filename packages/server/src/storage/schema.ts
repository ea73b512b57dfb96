import type { ColumnType, Generated } from 'kysely';

/** Column types as both drivers return them (PGlite and pg agree on these). */
type Timestamp = ColumnType<Date, Date, Date>;
type Json<T> = ColumnType<T, string, string>;

export interface Database {
  orgs: { id: string; name: string; display_name: string; created_at: Timestamp };
  principals: {
    id: string;
    org_id: string;
    kind: 'user' | 'service_account';
    username: string;
    display_name: string;
    email: string | null;
    password_hash: string | null;
    status: 'active' | 'disabled';
    instance_admin: boolean;
    ip_allowlist: Json<string[]>;
    created_at: Timestamp;
    updated_at: Timestamp;
    password_changed_at: Timestamp | null;
    deleted_at: Timestamp | null;
  };
  roles: {
    id: string;
    org_id: string | null;
    name: string;
    description: string;
    rights: Json<string[]>;
    builtin: boolean;
    created_at: Timestamp;
  };
  principal_roles: { principal_id: string; role_id: string };
  groups: { id: string; org_id: string; name: string; description: string; created_at: Timestamp };
  group_members: { group_id: string; principal_id: string };
  group_roles: { group_id: string; role_id: string };
  sessions: {
    id: string;
    org_id: string;
    principal_id: string;
    secret_hash: Uint8Array;
    created_at: Timestamp;
    last_seen_at: Timestamp;
    expires_at: Timestamp;
    ended_at: Timestamp | null;
    client_ip: string | null;
    user_agent: string | null;
  };
  login_throttle: { key: string; failures: number; window_start: Timestamp };
  audit_events: {
    seq: Generated<string>;
    org_id: string | null;
    occurred_at: Timestamp;
    action: string;
    outcome: string;
    actor_principal_id: string | null;
    actor_token_id: string | null;
    target_type: string | null;
    target_id: string | null;
    client_ip: string | null;
    user_agent: string | null;
    request_id: string | null;
    details: Json<Record<string, unknown>>;
    /** Migration 0010: the usage recorder's key of a batched event, so a retried write inserts it once. */
    write_key: ColumnType<string | null, never, never>;
  };
  // Migration 0013: exchange and denial counts per token and minute, and the keys of written batches.
  token_usage: { token_id: string; minute: Timestamp; outcome: 'success' | 'denied'; org_id: string; count: ColumnType<string, number, number> };
  usage_writes: { write_key: string; written_at: Timestamp };
  // Migration 0005: when each periodic job last ran, cluster-wide.
  job_runs: { name: string; last_run_at: Timestamp; run_by: string };
  // Migration 0003: signing keys, apps, revoked access tokens and the revocation feed.
  signing_keys: {
    kid: string;
    algorithm: string;
    public_key: Json<JsonWebKey>;
    encrypted_private_key: Uint8Array;
    created_at: Timestamp;
    retired_at: Timestamp | null;
    /** Migration 0006: null while the key is published ahead of signing. */
    activated_at: Timestamp | null;
  };
  apps: {
    id: string;
    org_id: string;
    name: string;
    description: string;
    client_id: string;
    secret_hash: Uint8Array;
    access_token_ttl_seconds: number | null;
    can_introspect: boolean;
    created_by: string | null;
    created_at: Timestamp;
    updated_at: Timestamp;
    secret_rotated_at: Timestamp;
    deleted_at: Timestamp | null;
  };
  app_roles: { app_id: string; role_id: string };
  revocation_events: {
    seq: Generated<string>;
    org_id: string;
    kind: 'token' | 'access_token' | 'principal' | 'cutoff';
    subject_id: string;
    occurred_at: Timestamp;
    /** Migration 0008: for `cutoff`, access tokens issued before this are refused. */
    cutoff_before: Timestamp | null;
  };
  revoked_access_tokens: {
    jti: string;
    org_id: string;
    token_id: string | null;
    revoked_at: Timestamp;
    expires_at: Timestamp;
  };
  // Migration 0002: API tokens, policies, presets, saved searches.
  api_tokens: {
    id: string;
    org_id: string;
    owner_id: string;
    /** Migration 0004: the owner's username, kept for the owner sort and search indexes. */
    owner_username: string;
    created_by: string;
    name: string;
    mode: 'refreshable' | 'direct';
    scope_kind: string;
    endpoints: Json<string[]>;
    roles: Json<string[]>;
    ip_allowlist: Json<string[]>;
    secret_hash: Uint8Array;
    previous_secret_hash: Uint8Array | null;
    previous_valid_until: Timestamp | null;
    previous_from_refresh: boolean;
    expires_at: Timestamp | null;
    last_used_at: Timestamp | null;
    last_used_ip: string | null;
    /** Migration 0009: the last 5 distinct client addresses, newest first. */
    recent_ips: ColumnType<{ ip: string; at: string }[], never, never>;
    /** Migration 0010: hex keyed hashes of the secrets refresh rotation replaced, oldest first (at most 32). */
    retired_refresh_hashes: ColumnType<string[], never, string[]>;
    revoked_at: Timestamp | null;
    revoked_by: string | null;
    revoke_reason: string | null;
    created_at: Timestamp;
    updated_at: Timestamp;
    /** Migration 0005: set once the sweep has audited the token's expiry or idleness. */
    lapsed_at: Timestamp | null;
    lapse_reason: 'expired' | 'idle' | null;
  };
  policies: { org_id: string; settings: Json<Record<string, unknown>>; updated_at: Timestamp };
  presets: {
    id: string;
    org_id: string;
    name: string;
    description: string;
    endpoints: Json<string[]>;
    mode: 'refreshable' | 'direct';
    scope_locked: boolean;
    default_lifetime_seconds: number | null;
    created_at: Timestamp;
  };
  saved_searches: {
    id: string;
    org_id: string;
    owner_id: string;
    name: string;
    query: Json<Record<string, unknown>>;
    shared: boolean;
    created_at: Timestamp;
  };
}
