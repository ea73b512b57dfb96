import { authorize } from './authorize.js';
import { auditOf, type ActorContext, type RequestContext } from './context.js';
import { TesseraError, notFound } from './errors.js';
import type { Principal } from './model.js';
import { hashRecoveryCode, matchRecoveryCode, newRecoveryCodes, openSeed, sealSeed } from './second-factor.js';
import type { Clock, Totp } from './ports.js';
import type { Store } from './store.js';
import { createTargetGuard } from './target-guard.js';

export interface Enrolment {
  /** The base32 seed, for typing into an authenticator by hand. */
  readonly secret: string;
  /** `otpauth://totp/...`, the QR code's content. */
  readonly otpauthUri: string;
}

/** What a correct code proved at login: the factors used (RFC 8176 amr values). */
export interface SecondFactorOutcome {
  readonly amr: readonly string[];
  /** Recovery codes, when this login completed an enrolment: shown once. */
  readonly recoveryCodes?: readonly string[];
}

/**
 * Two-factor login with TOTP (RFC 6238, the Cloud Director seed): enrolment, confirmation with
 * a first code (then ten recovery codes, shown once), the check at login, and disabling. A
 * token exchange never meets any of this: API tokens are the machine credential, and the
 * OAuth token endpoint never asks for a second factor.
 */
export function createSecondFactorService(deps: { store: Store; clock: Clock; totp: Totp; secretKey: Uint8Array; issuer: () => string }) {
  const { store, clock, totp } = deps;
  const secretKey = Buffer.from(deps.secretKey);
  const label = (principal: Pick<Principal, 'username'>) => principal.username;

  async function begin(principal: Pick<Principal, 'id' | 'orgId' | 'username'>, ctx: RequestContext & { actor?: ActorContext['actor'] | null }): Promise<Enrolment> {
    const existing = await store.secondFactors.get(principal.id);
    if (existing?.confirmedAt) {
      throw new TesseraError('CONFLICT', 'Two-factor login is already on for this account; turn it off first to enrol a new authenticator', { field: '/otp' });
    }
    const seed = totp.newSeed();
    const now = clock.now();
    await store.transaction(async (tx) => {
      await tx.secondFactors.begin({ principalId: principal.id, orgId: principal.orgId, seedCipher: sealSeed(secretKey, seed), createdAt: now });
      await tx.audit.append(auditOf(ctx, now, { orgId: principal.orgId, action: 'second_factor.enrolment_started', outcome: 'success', targetType: 'principal', targetId: principal.id }));
    });
    return { secret: seed, otpauthUri: totp.uri(`Tessera ${new URL(deps.issuer()).host}`, label(principal), seed) };
  }

  /** Confirms a pending enrolment with its first code; returns the recovery codes (shown once). */
  async function confirm(principal: Pick<Principal, 'id' | 'orgId'>, code: string, ctx: RequestContext & { actor?: ActorContext['actor'] | null }): Promise<readonly string[] | undefined> {
    const factor = await store.secondFactors.get(principal.id);
    if (!factor || factor.confirmedAt) return undefined;
    const now = clock.now();
    const step = await totp.check(openSeed(secretKey, factor.seedCipher), code.trim(), now, null);
    if (step === undefined) return undefined;
    const codes = newRecoveryCodes();
    await store.transaction(async (tx) => {
      await tx.secondFactors.confirm(principal.id, now, step, codes.map((c) => hashRecoveryCode(secretKey, c)));
      await tx.audit.append(auditOf(ctx, now, { orgId: principal.orgId, action: 'second_factor.enabled', outcome: 'success', targetType: 'principal', targetId: principal.id }));
    });
    return codes;
  }

  /** A current code (each step once) or an unused recovery code (then gone). */
  async function accept(principalId: string, code: string): Promise<'otp' | 'recovery' | undefined> {
    const factor = await store.secondFactors.get(principalId);
    if (!factor?.confirmedAt) return undefined;
    const trimmed = code.trim();
    if (/^[0-9]{6}$/.test(trimmed)) {
      const step = await totp.check(openSeed(secretKey, factor.seedCipher), trimmed, clock.now(), factor.lastStep);
      // The compare-and-set refuses a code two concurrent logins presented at once.
      return step !== undefined && (await store.secondFactors.useStep(principalId, step)) ? 'otp' : undefined;
    }
    if (matchRecoveryCode(secretKey, trimmed, factor.recoveryHashes) === -1) return undefined;
    return (await store.secondFactors.useRecoveryCode(principalId, hashRecoveryCode(secretKey, trimmed))) ? 'recovery' : undefined;
  }

  const wrongCode = () =>
    new TesseraError('INVALID_CREDENTIALS', 'The authentication code is not valid or was already used: enter the current 6-digit code from your authenticator app, or an unused recovery code', { field: '/otp' });

  return {
    /**
     * The second step of a login whose password was right. `required`: the organization's
     * policy asks every user for a second factor; a user without one then enrols at login
     * (begin with {@link beginAtLogin}, finish by logging in with the first code).
     */
    async atLogin(principal: Principal, otp: string | undefined, required: boolean, ctx: RequestContext): Promise<SecondFactorOutcome> {
      const factor = await store.secondFactors.get(principal.id);
      if (factor?.confirmedAt) {
        if (otp === undefined || otp.trim() === '') {
          throw new TesseraError('SECOND_FACTOR_REQUIRED', 'Two-factor login is on for this account: send the 6-digit code from your authenticator app (or a recovery code) as otp', { field: '/otp' });
        }
        const used = await accept(principal.id, otp);
        if (!used) throw wrongCode();
        return { amr: used === 'otp' ? ['pwd', 'otp'] : ['pwd', 'otp', 'recovery'] };
      }
      if (factor && otp !== undefined && otp.trim() !== '') {
        const recoveryCodes = await confirm(principal, otp, ctx);
        if (!recoveryCodes) throw wrongCode();
        return { amr: ['pwd', 'otp'], recoveryCodes };
      }
      if (required) {
        throw new TesseraError(
          'SECOND_FACTOR_ENROLMENT_REQUIRED',
          'Your organization requires two-factor login: start enrolment with POST /api/v1/sessions/second-factor {username, password}, add the secret to an authenticator app, then log in with its first code as otp (the console and `tessera login` walk you through it)',
          { field: '/otp' },
        );
      }
      return { amr: ['pwd'] };
    },

    /** Enrolment for a principal whose password was just checked (no session yet). */
    beginAtLogin: (principal: Principal, ctx: RequestContext) => begin(principal, ctx),

    /** Whether the caller has two-factor login on, or an enrolment pending. */
    async status(ctx: ActorContext): Promise<{ enabled: boolean; pending: boolean; recoveryCodesLeft: number }> {
      const factor = await store.secondFactors.get(ctx.actor.principalId);
      return { enabled: Boolean(factor?.confirmedAt), pending: Boolean(factor && !factor.confirmedAt), recoveryCodesLeft: factor?.confirmedAt ? factor.recoveryHashes.length : 0 };
    },

    async beginOwn(ctx: ActorContext): Promise<Enrolment> {
      await authorize(deps, ctx, { kind: 'change_own_password' }, { action: 'second_factor.enrol', targetType: 'principal', targetId: ctx.actor.principalId });
      return begin({ id: ctx.actor.principalId, orgId: ctx.actor.orgId, username: ctx.actor.username }, ctx);
    },

    async confirmOwn(ctx: ActorContext, code: string): Promise<readonly string[]> {
      await authorize(deps, ctx, { kind: 'change_own_password' }, { action: 'second_factor.enrol', targetType: 'principal', targetId: ctx.actor.principalId });
      const codes = await confirm({ id: ctx.actor.principalId, orgId: ctx.actor.orgId }, code, ctx);
      if (!codes) throw new TesseraError('VALIDATION_FAILED', 'The code does not match the pending enrolment: enter the current 6-digit code your authenticator app shows for Tessera (start again if you have none pending)', { field: '/code' });
      return codes;
    },

    /** Turns two-factor login off for the caller, with a current code; refused where the policy requires it. */
    async disableOwn(ctx: ActorContext, code: string, required: boolean): Promise<void> {
      await authorize(deps, ctx, { kind: 'change_own_password' }, { action: 'second_factor.disable', targetType: 'principal', targetId: ctx.actor.principalId });
      if (required) throw new TesseraError('FORBIDDEN', 'Your organization requires two-factor login; it cannot be turned off (an administrator can reset it to let you enrol a new authenticator)');
      if (!(await accept(ctx.actor.principalId, code))) throw new TesseraError('VALIDATION_FAILED', wrongCode().message, { field: '/code' });
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.secondFactors.remove(ctx.actor.principalId);
        await tx.audit.append(auditOf(ctx, now, { action: 'second_factor.disabled', outcome: 'success', targetType: 'principal', targetId: ctx.actor.principalId }));
      });
    },

    /** An administrator resets a user's factor (a lost phone): the user enrols again at next login. */
    async reset(ctx: ActorContext, principalId: string): Promise<void> {
      const audit = { action: 'second_factor.reset', targetType: 'principal', targetId: principalId };
      // Resetting someone's factor is changing them: users.manage, over those one outranks (SPEC 2).
      await authorize(deps, ctx, { kind: 'manage_principals' }, audit);
      await createTargetGuard({ store, clock }).guardPrincipals(ctx, [principalId], audit);
      const principal = await store.principals.get(ctx.actor.orgId, principalId);
      if (!principal) throw notFound('user', principalId);
      const now = clock.now();
      await store.transaction(async (tx) => {
        if (!(await tx.secondFactors.remove(principalId))) throw new TesseraError('NOT_FOUND', `${principal.username} has no second factor to reset`);
        await tx.audit.append(auditOf(ctx, now, { action: 'second_factor.reset', outcome: 'success', targetType: 'principal', targetId: principalId }));
      });
    },
  };
}

export type SecondFactorService = ReturnType<typeof createSecondFactorService>;
