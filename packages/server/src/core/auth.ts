import { auditOf, type ActorContext, type RequestContext } from './context.js';
import { TesseraError } from './errors.js';
import type { Org, Principal } from './model.js';
import { defaultPolicy } from './policy.js';
import type { SecondFactorOutcome, SecondFactorService } from './second-factors.js';
import { randomBase62, type Clock, type Random } from './ports.js';
import { can, isRight, type Actor, type AuthMethod, type Right } from './rights.js';
import { hashPassword, hashSecret, hashesEqual, verifyPassword } from './secrets.js';
import type { Store } from './store.js';

export interface AuthSettings {
  readonly secretKey: Uint8Array;
  readonly sessionIdleSeconds: number;
  readonly sessionMaxSeconds: number;
  readonly loginMaxFailures: number;
  readonly loginWindowSeconds: number;
  /** Organization used when a login names none. */
  readonly defaultOrg: string;
}

export interface AuthDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
  readonly settings: AuthSettings;
  readonly secondFactors: SecondFactorService;
}

export interface LoginResult {
  /** `ses_<id>.<secret>`: shown once to the client; only its keyed hash is stored. */
  readonly sessionToken: string;
  readonly expiresAt: Date;
  readonly principal: Principal;
  readonly actor: Actor;
  /** Recovery codes, when this login completed a two-factor enrolment: shown once. */
  readonly recoveryCodes?: readonly string[] | undefined;
}

const sessionPattern = /^ses_([0-9A-Za-z]{16})\.([0-9A-Za-z]{43})$/;
/** Touching `last_seen_at` at most this often keeps session checks from writing per request. */
const touchIntervalMs = 60_000;

export const passwordRules = {
  minLength: 12,
  maxLength: 256,
} as const;

/** Refuses passwords that are too short or too long; the message names the rule. */
export function checkPasswordStrength(password: string, field: string): void {
  if (password.length < passwordRules.minLength || password.length > passwordRules.maxLength) {
    throw new TesseraError(
      'VALIDATION_FAILED',
      `Password must be ${passwordRules.minLength} to ${passwordRules.maxLength} characters long`,
      { field },
    );
  }
}

/** Builds the caller's identity from its current roles; nothing is cached across requests. */
export async function buildActor(
  store: Store,
  principal: Principal,
  auth: { method: AuthMethod; tokenId: string | null; sessionId: string | null; onlyRoles?: readonly string[] },
): Promise<Actor> {
  const held = await store.principals.effectiveRoles(principal.orgId, principal.id);
  // Through a token, the caller holds only the token's roles that its owner still holds (SPEC 2).
  const roles = auth.onlyRoles ? held.filter((role) => auth.onlyRoles?.includes(role.name)) : held;
  const rights = new Set<Right>();
  for (const role of roles) for (const right of role.rights) if (isRight(right)) rights.add(right);
  return {
    principalId: principal.id,
    orgId: principal.orgId,
    username: principal.username,
    kind: principal.kind,
    instanceAdmin: principal.instanceAdmin,
    rights,
    roles: roles.map((role) => role.name),
    authMethod: auth.method,
    tokenId: auth.tokenId,
    sessionId: auth.sessionId,
  };
}

/** Interactive login, sessions and password changes. */
export function createAuthService({ store, clock, random, settings, secondFactors }: AuthDeps) {
  // Verifying against a throwaway hash when the user does not exist keeps the response time of
  // "no such user" and "wrong password" alike, so timing does not reveal which usernames exist.
  const decoyHash = hashPassword(randomBase62(random, 24), random.bytes(16));

  async function throttled(keys: readonly [string, number][], now: Date): Promise<number | undefined> {
    for (const [key, max] of keys) {
      const state = await store.throttle.get(key);
      if (!state) continue;
      const windowEnd = state.windowStart.getTime() + settings.loginWindowSeconds * 1000;
      if (state.failures >= max && windowEnd > now.getTime()) return Math.ceil((windowEnd - now.getTime()) / 1000);
    }
    return undefined;
  }

  /**
   * Checks a username and password (SPEC 2): throttled per account and per client address,
   * one answer for every cause of failure so it never tells whether the user exists, every
   * failure counted and audited.
   */
  async function checkCredentials(
    input: { username: string; password: string; org?: string | undefined },
    ctx: RequestContext,
    now: Date,
  ): Promise<{ org: Org; principal: Principal; accountKey: string }> {
    const orgName = input.org ?? settings.defaultOrg;
    const org = await store.orgs.getByName(orgName);
    const accountKey = `account:${orgName}:${input.username.toLowerCase()}`;
    const addressKey = `address:${ctx.clientIp ?? 'unknown'}`;
    const keys: [string, number][] = [
      [accountKey, settings.loginMaxFailures],
      [addressKey, settings.loginMaxFailures * 4],
    ];

    const retryAfter = await throttled(keys, now);
    if (retryAfter !== undefined) {
      await store.audit.append(
        auditOf(ctx, now, {
          orgId: org?.id ?? null,
          action: 'login.failure',
          outcome: 'denied',
          details: { username: input.username, reason: 'throttled' },
        }),
      );
      throw new TesseraError('TOO_MANY_ATTEMPTS', `Too many failed logins; try again in ${retryAfter} seconds`, {
        retryAfter,
      });
    }

    const principal = org && (await store.principals.getByUsername(org.id, input.username));
    const storedHash = principal && principal.kind === 'user' ? await store.principals.getPasswordHash(org.id, principal.id) : null;
    const passwordOk = await verifyPassword(input.password, storedHash ?? (await decoyHash));
    const reason = !principal
      ? 'unknown_user'
      : principal.kind !== 'user'
        ? 'service_account'
        : !storedHash || !passwordOk
          ? 'bad_password'
          : principal.status !== 'active'
            ? 'disabled'
            : null;

    if (reason !== null || !principal || !org) {
      for (const [key] of keys) await store.throttle.recordFailure(key, now, settings.loginWindowSeconds);
      await store.audit.append(
        auditOf(ctx, now, {
          orgId: org?.id ?? null,
          action: 'login.failure',
          outcome: 'failure',
          targetType: principal ? 'principal' : null,
          targetId: principal?.id ?? null,
          details: { username: input.username, reason },
        }),
      );
      // One message for every cause, so the answer never tells whether the user exists.
      throw new TesseraError('INVALID_CREDENTIALS', 'Invalid username or password');
    }
    return { org, principal, accountKey };
  }

  /** When the principal's password expired under its organization's policy, if it has (SPEC 4). */
  async function passwordExpiredAt(orgId: string, principal: Principal, now: Date): Promise<Date | undefined> {
    const { passwordExpirySeconds } = { ...defaultPolicy, ...(await store.policies.get(orgId)) };
    if (passwordExpirySeconds === null) return undefined;
    const expiresAt = new Date((principal.passwordChangedAt ?? principal.createdAt).getTime() + passwordExpirySeconds * 1000);
    return expiresAt <= now ? expiresAt : undefined;
  }

  /**
   * Stores a new password (already checked for strength), ends the principal's sessions but
   * `keepSessionId`, and audits the change, all in one transaction.
   */
  async function replacePassword(
    ctx: RequestContext & { readonly actor?: Actor | null },
    now: Date,
    who: { readonly orgId: string; readonly principalId: string },
    newPassword: string,
    options: { readonly keepSessionId?: string | undefined; readonly orgId?: string; readonly details?: Record<string, unknown> },
  ): Promise<void> {
    const passwordHash = await hashPassword(newPassword, random.bytes(16));
    await store.transaction(async (tx) => {
      await tx.principals.update(who.orgId, who.principalId, { passwordHash, passwordChangedAt: now, updatedAt: now });
      await tx.sessions.endAllFor(who.principalId, now, options.keepSessionId);
      await tx.audit.append(
        auditOf(ctx, now, {
          ...(options.orgId !== undefined && { orgId: options.orgId }),
          action: 'password.change',
          outcome: 'success',
          targetType: 'principal',
          targetId: who.principalId,
          ...(options.details !== undefined && { details: options.details }),
        }),
      );
    });
  }

  /**
   * The second step after a right password (RFC 6238 TOTP, the Cloud Director seed). A missing
   * code is not a failure (the password was right: the client asks for the code); a wrong one
   * counts against the account like a wrong password, and both are audited.
   */
  async function secondStep(org: Org, principal: Principal, accountKey: string, otp: string | undefined, ctx: RequestContext, now: Date): Promise<SecondFactorOutcome> {
    const { requireSecondFactor } = { ...defaultPolicy, ...(await store.policies.get(org.id)) };
    try {
      return await secondFactors.atLogin(principal, otp, requireSecondFactor, ctx);
    } catch (error) {
      const code = error instanceof TesseraError ? error.code : undefined;
      const wrong = code === 'INVALID_CREDENTIALS';
      if (wrong) await store.throttle.recordFailure(accountKey, now, settings.loginWindowSeconds);
      const reason = wrong ? 'bad_second_factor' : code === 'SECOND_FACTOR_REQUIRED' ? 'second_factor_required' : 'second_factor_enrolment_required';
      await store.audit.append(
        auditOf(ctx, now, { orgId: org.id, action: 'login.failure', outcome: wrong ? 'failure' : 'denied', targetType: 'principal', targetId: principal.id, details: { username: principal.username, reason } }),
      );
      throw error;
    }
  }

  /** Opens a session for a principal whose credentials were just checked. */
  async function openSession(org: Org, principal: Principal, accountKey: string, ctx: RequestContext, now: Date, factor: SecondFactorOutcome = { amr: ['pwd'] }): Promise<LoginResult> {
    const id = randomBase62(random, 16);
    const secret = randomBase62(random, 43);
    const expiresAt = new Date(now.getTime() + settings.sessionMaxSeconds * 1000);
    const actor = await buildActor(store, principal, { method: 'pwd', tokenId: null, sessionId: id });
    await store.transaction(async (tx) => {
      await tx.throttle.clear(accountKey);
      await tx.sessions.create({
        id,
        orgId: org.id,
        principalId: principal.id,
        secretHash: hashSecret(settings.secretKey, secret),
        createdAt: now,
        lastSeenAt: now,
        expiresAt,
        endedAt: null,
        clientIp: ctx.clientIp,
        userAgent: ctx.userAgent,
      });
      await tx.audit.append(
        auditOf({ ...ctx, actor }, now, {
          action: 'login.success',
          outcome: 'success',
          targetType: 'session',
          targetId: id,
          details: { amr: factor.amr },
        }),
      );
    });
    return { sessionToken: `ses_${id}.${secret}`, expiresAt, principal, actor, recoveryCodes: factor.recoveryCodes };
  }

  return {
    async login(input: { username: string; password: string; org?: string | undefined; otp?: string | undefined }, ctx: RequestContext): Promise<LoginResult> {
      const now = clock.now();
      const { org, principal, accountKey } = await checkCredentials(input, ctx, now);
      const expiredAt = await passwordExpiredAt(org.id, principal, now);
      if (expiredAt !== undefined) {
        // The password was right: the account's failure count starts over, but no session opens.
        await store.throttle.clear(accountKey);
        await store.audit.append(
          auditOf(ctx, now, {
            orgId: org.id,
            action: 'login.failure',
            outcome: 'denied',
            targetType: 'principal',
            targetId: principal.id,
            details: { username: input.username, reason: 'password_expired' },
          }),
        );
        throw new TesseraError(
          'PASSWORD_EXPIRED',
          `The password expired on ${expiredAt.toISOString()} under the organization's policy; choose a new one with POST /api/v1/sessions/password-change {username, password, new_password} (the console asks for it at login)`,
          { field: '/password' },
        );
      }
      const factor = await secondStep(org, principal, accountKey, input.otp, ctx, now);
      return openSession(org, principal, accountKey, ctx, now, factor);
    },

    /**
     * Starts a two-factor enrolment with the password instead of a session: the way in when the
     * organization requires a second factor the user does not have yet. Throttled and audited
     * like a login; no session opens until the user logs in with the first code.
     */
    async beginSecondFactorAtLogin(input: { username: string; password: string; org?: string | undefined }, ctx: RequestContext) {
      const now = clock.now();
      const { principal, accountKey } = await checkCredentials(input, ctx, now);
      await store.throttle.clear(accountKey);
      return secondFactors.beginAtLogin(principal, ctx);
    },

    /**
     * Changes a password with the current one instead of a session, then logs in: the way out
     * of an expired password (SPEC 4), and usable any time. Throttled and audited like a login;
     * every other session of the user ends.
     */
    async changePasswordAtLogin(
      input: { username: string; password: string; newPassword: string; org?: string | undefined; otp?: string | undefined },
      ctx: RequestContext,
    ): Promise<LoginResult> {
      const now = clock.now();
      const { org, principal, accountKey } = await checkCredentials(input, ctx, now);
      // A password change at login is a login: it asks for the second factor first.
      const factor = await secondStep(org, principal, accountKey, input.otp, ctx, now);
      checkPasswordStrength(input.newPassword, '/new_password');
      if (input.newPassword === input.password) {
        throw new TesseraError('VALIDATION_FAILED', 'The new password must differ from the current one', { field: '/new_password' });
      }
      const expired = (await passwordExpiredAt(org.id, principal, now)) !== undefined;
      await replacePassword(ctx, now, { orgId: org.id, principalId: principal.id }, input.newPassword, { orgId: org.id, details: { at_login: true, expired } });
      return openSession(org, { ...principal, passwordChangedAt: now }, accountKey, ctx, now, factor);
    },

    /**
     * Resolves a session token to its caller, or `undefined` when it is unknown, ended,
     * idle too long, past its absolute lifetime, or its principal is disabled or deleted.
     */
    async authenticateSession(token: string): Promise<Actor | undefined> {
      const match = sessionPattern.exec(token);
      if (!match) return undefined;
      const [, id, secret] = match as unknown as [string, string, string];
      const session = await store.sessions.get(id);
      if (!session || !hashesEqual(session.secretHash, hashSecret(settings.secretKey, secret))) return undefined;
      const now = clock.now();
      const idleDeadline = session.lastSeenAt.getTime() + settings.sessionIdleSeconds * 1000;
      if (session.endedAt || session.expiresAt <= now || idleDeadline <= now.getTime()) return undefined;
      const principal = await store.principals.get(session.orgId, session.principalId);
      if (!principal || principal.status !== 'active') return undefined;
      if (now.getTime() - session.lastSeenAt.getTime() >= touchIntervalMs) await store.sessions.touch(id, now);
      return buildActor(store, principal, { method: 'pwd', tokenId: null, sessionId: id });
    },

    async logout(ctx: ActorContext): Promise<void> {
      const { actor } = ctx;
      if (!actor.sessionId) return;
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.sessions.end(actor.sessionId as string, now);
        await tx.audit.append(auditOf(ctx, now, { action: 'logout', outcome: 'success', targetType: 'session', targetId: actor.sessionId }));
      });
    },

    /** Changes the caller's own password and ends its other sessions. */
    async changePassword(ctx: ActorContext, input: { currentPassword: string; newPassword: string }): Promise<void> {
      const { actor } = ctx;
      const now = clock.now();
      const decision = can(actor, { kind: 'change_own_password' });
      if (!decision.allowed) {
        await store.audit.append(
          auditOf(ctx, now, {
            action: 'password.change',
            outcome: 'denied',
            targetType: 'principal',
            targetId: actor.principalId,
            details: { reason: decision.restricted ? 'restricted_session' : 'forbidden' },
          }),
        );
        throw new TesseraError(decision.restricted ? 'RESTRICTED_SESSION' : 'FORBIDDEN', decision.reason);
      }
      const stored = await store.principals.getPasswordHash(actor.orgId, actor.principalId);
      if (!stored || !(await verifyPassword(input.currentPassword, stored))) {
        await store.audit.append(
          auditOf(ctx, now, {
            action: 'password.change',
            outcome: 'failure',
            targetType: 'principal',
            targetId: actor.principalId,
            details: { reason: 'bad_current_password' },
          }),
        );
        throw new TesseraError('VALIDATION_FAILED', 'The current password is not correct', { field: '/current_password' });
      }
      checkPasswordStrength(input.newPassword, '/new_password');
      await replacePassword(ctx, now, actor, input.newPassword, { keepSessionId: actor.sessionId ?? undefined });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
