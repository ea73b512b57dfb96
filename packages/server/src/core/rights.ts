/** Rights of the management plane (SPEC 2). */
export const allRights = [
  'tokens.own',
  'tokens.all',
  'tokens.read_all',
  'tokens.create_for_others',
  'users.manage',
  'apps.manage',
  'policy.manage',
  'audit.read',
] as const;

export type Right = (typeof allRights)[number];

export function isRight(value: string): value is Right {
  return (allRights as readonly string[]).includes(value);
}

/**
 * Built-in roles. `tokens.read_all` is the read-only half of `tokens.all` that SPEC 2 gives the
 * auditor ("read-only tokens.all"); `tokens.all` implies it.
 */
export const builtinRoles: Readonly<Record<string, readonly Right[]>> = {
  'org-owner': allRights,
  admin: allRights.filter((right) => right !== 'policy.manage'),
  'user-manager': ['users.manage'],
  auditor: ['audit.read', 'tokens.read_all'],
  member: ['tokens.own'],
};

/** How the caller proved who it is: interactive login, or a credential derived from an API token or app. */
export type AuthMethod = 'pwd' | 'token' | 'client';

/** The authenticated caller of a management operation. */
export interface Actor {
  readonly principalId: string;
  readonly orgId: string;
  readonly username: string;
  readonly kind: 'user' | 'service_account';
  readonly instanceAdmin: boolean;
  readonly rights: ReadonlySet<Right>;
  readonly roles: readonly string[];
  readonly authMethod: AuthMethod;
  /** The API token a token-derived session came from (the seeds' refreshTokenId). */
  readonly tokenId: string | null;
  readonly sessionId: string | null;
}

/** What an operation is about to touch. */
export type Action =
  | { readonly kind: 'manage_principals' }
  | { readonly kind: 'grant_rights'; readonly rights: readonly Right[] }
  | { readonly kind: 'read_directory' }
  | { readonly kind: 'read_audit' }
  | { readonly kind: 'change_own_password' }
  | { readonly kind: 'manage_orgs' }
  | { readonly kind: 'manage_policy' }
  | { readonly kind: 'manage_apps' }
  /** Read token metadata: one's own (`own`) or anyone's in the organization. */
  | { readonly kind: 'read_tokens'; readonly own: boolean }
  /** Create, edit, rotate or revoke a token: one's own or another principal's. */
  | { readonly kind: 'write_tokens'; readonly own: boolean }
  | { readonly kind: 'create_token_for_others' }
  /** Obtain a secret that acts with these rights (a token for, or rotated for, another principal). */
  | { readonly kind: 'delegate_rights'; readonly rights: readonly Right[] };

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly restricted: boolean };

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason, restricted: false });
const restrict = (reason: string): Decision => ({ allowed: false, reason, restricted: true });

/** Writes that SPEC 2 forbids to any caller authenticated through an API token. */
const restrictedWrites = new Set<Action['kind']>([
  'manage_principals',
  'grant_rights',
  'change_own_password',
  'manage_orgs',
  'manage_policy',
  'manage_apps',
  'write_tokens',
  'create_token_for_others',
]);

export function hasRight(actor: Actor, right: Right): boolean {
  if (actor.rights.has(right)) return true;
  return right === 'tokens.read_all' && actor.rights.has('tokens.all');
}

/**
 * The single rights decision used by every management operation.
 * Token-derived callers are refused writes first, so the reason they see is the restriction,
 * not a missing right they could never be given through a token.
 */
export function can(actor: Actor, action: Action): Decision {
  if (actor.authMethod !== 'pwd' && restrictedWrites.has(action.kind)) {
    return restrict('This operation needs an interactive login; sessions authenticated through an API token are read-only here');
  }
  // SPEC 2: through a token one may see one's own tokens, never other principals'.
  if (actor.authMethod !== 'pwd' && action.kind === 'read_tokens' && !action.own) {
    return restrict('Other principals\' tokens cannot be seen through an API token; log in interactively');
  }
  switch (action.kind) {
    case 'manage_principals':
      return hasRight(actor, 'users.manage') ? allow : deny('Requires the users.manage right');
    case 'grant_rights': {
      const missing = action.rights.filter((right) => !hasRight(actor, right));
      if (!hasRight(actor, 'users.manage')) return deny('Requires the users.manage right');
      return missing.length === 0 ? allow : deny(`You cannot grant rights you do not hold: ${missing.join(', ')}`);
    }
    case 'read_directory':
      return allow;
    case 'read_audit':
      return hasRight(actor, 'audit.read') ? allow : deny('Requires the audit.read right');
    case 'change_own_password':
      return actor.kind === 'user' ? allow : deny('Service accounts have no password');
    case 'manage_orgs':
      return actor.instanceAdmin ? allow : deny('Only an instance admin manages organizations');
    case 'manage_policy':
      return hasRight(actor, 'policy.manage') ? allow : deny('Requires the policy.manage right');
    case 'manage_apps':
      return hasRight(actor, 'apps.manage') ? allow : deny('Requires the apps.manage right');
    case 'read_tokens':
      if (action.own && (hasRight(actor, 'tokens.own') || hasRight(actor, 'tokens.read_all'))) return allow;
      return hasRight(actor, 'tokens.read_all') ? allow : deny(action.own ? 'Requires the tokens.own right' : 'Requires the tokens.all right to see other principals\' tokens');
    case 'write_tokens':
      if (action.own && (hasRight(actor, 'tokens.own') || hasRight(actor, 'tokens.all'))) return allow;
      return hasRight(actor, 'tokens.all') ? allow : deny(action.own ? 'Requires the tokens.own right' : 'Requires the tokens.all right to change other principals\' tokens');
    case 'create_token_for_others':
      return hasRight(actor, 'tokens.create_for_others') ? allow : deny('Requires the tokens.create_for_others right to create a token for someone else');
    case 'delegate_rights': {
      // Whoever receives another principal's secret could act with its rights: never more than their own.
      const missing = action.rights.filter((right) => !hasRight(actor, right));
      return missing.length === 0 ? allow : deny(`The token would carry rights you do not hold (${missing.join(', ')}); choose roles within your own`);
    }
  }
}
