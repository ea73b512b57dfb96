import type { NewAuditEvent } from './model.js';
import type { Actor } from './rights.js';

/** Facts about the request an operation runs for; transport code fills it, the domain reads it. */
export interface RequestContext {
  readonly clientIp: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
}

/** An authenticated request. */
export interface ActorContext extends RequestContext {
  readonly actor: Actor;
}

type AuditFields = Pick<NewAuditEvent, 'action' | 'outcome'> &
  Partial<Pick<NewAuditEvent, 'targetType' | 'targetId' | 'details' | 'orgId'>>;

/** Builds the audit event of an operation from its context: who, from where, which request. */
export function auditOf(ctx: RequestContext & { readonly actor?: Actor | null }, at: Date, fields: AuditFields): NewAuditEvent {
  return {
    orgId: fields.orgId !== undefined ? fields.orgId : (ctx.actor?.orgId ?? null),
    occurredAt: at,
    action: fields.action,
    outcome: fields.outcome,
    actorPrincipalId: ctx.actor?.principalId ?? null,
    actorTokenId: ctx.actor?.tokenId ?? null,
    targetType: fields.targetType ?? null,
    targetId: fields.targetId ?? null,
    clientIp: ctx.clientIp,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    details: fields.details ?? {},
  };
}
