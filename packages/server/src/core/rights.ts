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

/**
 * Where a principal (or an app) stands: the rights it holds and whether it is an instance admin.
 * Instance-admin status counts as one more right, above every organization right (SPEC 2).
 */
export interface Standing {
  /** How a refusal names it: "admin", "The app ci-bot". */
  readonly label: string;
  readonly rights: readonly Right[];
  readonly instanceAdmin: boolean;
}

/** What an operation is about to touch. */
export type Action =
  | { readonly kind: 'manage_principals' }
  /** Change, disable, delete, reset the password of, or give or take roles of someone who stands here. */
  | { readonly kind: 'change_principal'; readonly target: Standing }
  | { readonly kind: 'grant_rights'; readonly rights: readonly Right[] }
  | { readonly kind: 'read_directory' }
  | { readonly kind: 'read_audit' }
  | { readonly kind: 'change_own_password' }
  | { readonly kind: 'manage_orgs' }
  | { readonly kind: 'manage_policy' }
  | { readonly kind: 'manage_apps' }
  /** Webhook endpoints receive every token event of the organization: managing them is reading every token. */
  | { readonly kind: 'manage_webhooks' }
  /**
   * Read token metadata: one's own (`own`) or anyone's in the organization. `owner` is where the
   * tokens' owner stands, when one owner is named: a user manager sees the tokens of those it manages.
   */
  | { readonly kind: 'read_tokens'; readonly own: boolean; readonly owner?: Standing | undefined }
  /**
   * Create, edit, rotate or revoke a token: one's own or another principal's (`owner`, where it
   * stands). `revoke`: revocation only takes power away, so `tokens.all` may revoke anyone's.
   * `anyOwner`: the tokens could be anyone's in the organization (found by value, or all of
   * them), so no owner can be compared and only `tokens.all` will do.
   */
  | { readonly kind: 'write_tokens'; readonly own: boolean; readonly owner?: Standing | undefined; readonly revoke?: boolean; readonly anyOwner?: boolean }
  | { readonly kind: 'create_token_for_others'; readonly owner?: Standing | undefined }
  /** Save, change or delete a saved search: one's own (`own`), never another's shared one. */
  | { readonly kind: 'write_saved_search'; readonly own: boolean }
  /** Obtain a secret that acts with these rights (a token for, or rotated for, another principal). */
  | { readonly kind: 'delegate_rights'; readonly rights: readonly Right[] }
  /** Take a copy of the whole database: every organization's principals, hashes and audit log. */
  | { readonly kind: 'back_up' };

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly restricted: boolean };

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason, restricted: false });
const restrict = (reason: string): Decision => ({ allowed: false, reason, restricted: true });

/** Writes that SPEC 2 forbids to any caller authenticated through an API token. */
const restrictedWrites = new Set<Action['kind']>([
  'manage_principals',
  'change_principal',
  'grant_rights',
  'change_own_password',
  'manage_orgs',
  'manage_policy',
  'manage_apps',
  'manage_webhooks',
  'write_tokens',
  'create_token_for_others',
  'write_saved_search',
  // Not a write, but a copy of every organization's data: only an interactive instance admin.
  'back_up',
]);

export function hasRight(actor: Actor, right: Right): boolean {
  if (actor.rights.has(right)) return true;
  return right === 'tokens.read_all' && actor.rights.has('tokens.all');
}

/**
 * SPEC 2: no one may change a principal who holds a right they lack, and only an instance admin
 * changes an instance admin. The one comparison behind every change to someone else.
 */
export function outranks(actor: Actor, target: Standing): Decision {
  if (target.instanceAdmin && !actor.instanceAdmin) {
    return deny(`${target.label} is an instance admin; only an instance admin may change an instance admin`);
  }
  const missing = [...new Set(target.rights)].filter((right) => !hasRight(actor, right));
  if (missing.length === 0) return allow;
  return deny(`${target.label} holds rights you lack (${missing.join(', ')}); only someone holding all of them may change it`);
}

/** The tokens of someone one could not change are out of reach too (their owner holds rights one lacks). */
function ownerWithin(actor: Actor, owner: Standing): Decision {
  const decision = outranks(actor, owner);
  if (decision.allowed) return allow;
  return deny(`The token's owner: ${decision.reason}`);
}

/** A user manager manages the tokens of those it manages (issue 15): users.manage and the owner within one's rights. */
function managesOwner(actor: Actor, owner: Standing | undefined): boolean {
  return owner !== undefined && hasRight(actor, 'users.manage') && outranks(actor, owner).allowed;
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
    case 'change_principal':
      return outranks(actor, action.target);
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
    case 'manage_webhooks':
      if (!hasRight(actor, 'apps.manage')) return deny('Requires the apps.manage right');
      return hasRight(actor, 'tokens.read_all') ? allow : deny('Requires the tokens.read_all right: an endpoint receives the events of every token in the organization');
    case 'read_tokens':
      if (action.own && (hasRight(actor, 'tokens.own') || hasRight(actor, 'tokens.read_all'))) return allow;
      if (hasRight(actor, 'tokens.read_all') || (!action.own && managesOwner(actor, action.owner))) return allow;
      return deny(action.own ? 'Requires the tokens.own right' : 'Requires the tokens.all right (or users.manage over the owner) to see other principals\' tokens');
    case 'write_tokens': {
      if (action.own) return hasRight(actor, 'tokens.own') || hasRight(actor, 'tokens.all') ? allow : deny('Requires the tokens.own right');
      if (action.anyOwner) return hasRight(actor, 'tokens.all') ? allow : deny('Requires the tokens.all right: the tokens could be anyone\'s in the organization');
      if (!hasRight(actor, 'tokens.all') && !hasRight(actor, 'users.manage')) return deny('Requires the tokens.all or users.manage right to change other principals\' tokens');
      if (action.revoke && hasRight(actor, 'tokens.all')) return allow;
      return action.owner ? ownerWithin(actor, action.owner) : allow;
    }
    case 'create_token_for_others':
      if (!hasRight(actor, 'tokens.create_for_others') && !hasRight(actor, 'users.manage')) {
        return deny('Requires the tokens.create_for_others or users.manage right to create a token for someone else');
      }
      return action.owner ? ownerWithin(actor, action.owner) : allow;
    case 'write_saved_search':
      return action.own ? allow : deny('Only the owner of a saved search can change or delete it; save a copy instead');
    case 'back_up':
      return actor.instanceAdmin ? allow : deny('Only an instance admin backs up the database');
    case 'delegate_rights': {
      // Whoever receives another principal's secret could act with its rights: never more than their own.
      const missing = action.rights.filter((right) => !hasRight(actor, right));
      return missing.length === 0 ? allow : deny(`The token would carry rights you do not hold (${missing.join(', ')}); choose roles within your own`);
    }
  }
}
