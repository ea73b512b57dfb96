import { auditOf, type ActorContext } from './context.js';
import { TesseraError } from './errors.js';
import { can, type Action } from './rights.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';

/**
 * Applies the single rights decision; a refusal is audited (SPEC 6: every security decision)
 * and raised as 403 with its reason.
 */
export async function authorize(
  deps: { store: Store; clock: Clock },
  ctx: ActorContext,
  action: Action,
  audit: { action: string; targetType?: string; targetId?: string | null },
): Promise<void> {
  const decision = can(ctx.actor, action);
  if (decision.allowed) return;
  await deps.store.audit.append(
    auditOf(ctx, deps.clock.now(), {
      action: audit.action,
      outcome: 'denied',
      targetType: audit.targetType ?? null,
      targetId: audit.targetId ?? null,
      details: { reason: decision.restricted ? 'restricted_session' : 'forbidden', message: decision.reason },
    }),
  );
  throw new TesseraError(decision.restricted ? 'RESTRICTED_SESSION' : 'FORBIDDEN', decision.reason);
}
