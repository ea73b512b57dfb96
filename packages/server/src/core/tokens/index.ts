import { createTokenContext, type TokenDeps } from './context.js';
import { createTokenCreation } from './create.js';
import { createTokenEditing } from './edit.js';
import { createTokenLapseSweep } from './lapse.js';
import { createTokenReading } from './list.js';
import { createTokenPolicy } from './policy.js';
import { createPresetManagement } from './presets.js';
import { createTokenRevocation } from './revoke.js';
import { createTokenRotation } from './rotate.js';
import { createSavedSearches } from './saved-searches.js';
import { createTokenVerification } from './verify.js';

export { tokenStatus } from './status.js';
export type { TokenChanges, TokenDetails, TokenInput, TokenListFilters } from './types.js';
export type { TokenDeps } from './context.js';

/**
 * API tokens: lifecycle, limits, policy, presets, saved searches and verification (SPEC 3, 4).
 * One file per use case in this folder; this composes them into the one service the container wires.
 */
export function createTokenService(deps: TokenDeps) {
  const t = createTokenContext(deps);
  const service = {
    policyOf: t.policyOf,
    presetsOf: t.presetsOf,
    ...createTokenCreation(t),
    ...createTokenReading(t),
    ...createTokenEditing(t),
    ...createTokenRotation(t),
    ...createTokenRevocation(t),
    ...createTokenVerification(t),
    ...createTokenLapseSweep(t),
    ...createTokenPolicy(t),
    ...createPresetManagement(t),
    ...createSavedSearches(t),
    usage: deps.usage,
  };
  return service;
}

export type TokenService = ReturnType<typeof createTokenService>;
