import { auditOf } from './context.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';
import { expiryThresholdsDays, type DueWebhookMessage } from './webhook-model.js';
import { openWebhookSecret } from './webhooks.js';

/** Sends one signed message; implemented over HTTP in `app/` (the signing library is a package). */
export interface WebhookTransport {
  send(message: { readonly id: string; readonly url: string; readonly secret: string; readonly timestamp: Date; readonly body: string }): Promise<{ readonly statusCode: number } | { readonly error: string }>;
}

export interface WebhookDispatchSettings {
  /** How long a claimed message is this instance's before another may take it over. */
  readonly leaseSeconds: number;
  /** First retry delay; each further one doubles, up to `maxDelaySeconds`. */
  readonly retryBaseSeconds: number;
  readonly maxDelaySeconds: number;
  /** A message still undelivered this long after it was written fails for good. */
  readonly giveUpAfterSeconds: number;
  /** Messages claimed per round. */
  readonly batchSize: number;
}

/**
 * Delivers the outbox (SPEC 9): each instance claims due messages under a lease, sends them,
 * and records the outcome; a 2xx is delivered, anything else is retried with exponential
 * backoff until `giveUpAfterSeconds`. Delivery is at least once: an instance killed after
 * sending but before recording is followed by another attempt with the same `webhook-id`,
 * which receivers use to drop duplicates (Standard Webhooks).
 */
export function createWebhookDispatcher(deps: { store: Store; clock: Clock; secretKey: Uint8Array; transport: WebhookTransport; settings: WebhookDispatchSettings }) {
  const { store, clock, secretKey, transport, settings } = deps;

  function retryAt(message: DueWebhookMessage, at: Date): Date | null {
    const delay = Math.min(settings.retryBaseSeconds * 2 ** message.attempts, settings.maxDelaySeconds);
    const next = new Date(at.getTime() + delay * 1000);
    return next.getTime() - message.createdAt.getTime() > settings.giveUpAfterSeconds * 1000 ? null : next;
  }

  async function deliver(message: DueWebhookMessage): Promise<boolean> {
    let outcome: { statusCode: number } | { error: string };
    try {
      const secret = openWebhookSecret(secretKey, message.endpointId, message.secretCipher);
      outcome = await transport.send({ id: message.id, url: message.url, secret, timestamp: clock.now(), body: JSON.stringify(message.payload) });
    } catch (error) {
      outcome = { error: error instanceof Error ? error.message : 'delivery failed' };
    }
    const at = clock.now();
    const delivered = 'statusCode' in outcome && outcome.statusCode >= 200 && outcome.statusCode < 300;
    await store.webhooks.recordAttempt(message.id, {
      at,
      delivered,
      statusCode: 'statusCode' in outcome ? outcome.statusCode : null,
      // Only our own description of the failure: never the receiver's body.
      error: 'error' in outcome ? outcome.error.slice(0, 300) : delivered ? null : `answered ${outcome.statusCode}`,
      retryAt: delivered ? null : retryAt(message, at),
    });
    return delivered;
  }

  return {
    /** One round: claims what is due and sends it; returns how many were delivered and failed. */
    async runOnce(): Promise<{ delivered: number; failed: number }> {
      const due = await store.webhooks.claimDue(clock.now(), settings.batchSize, settings.leaseSeconds);
      const results = await Promise.all(due.map(deliver));
      const delivered = results.filter(Boolean).length;
      return { delivered, failed: results.length - delivered };
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;

/**
 * The `token.expiring` sweep (a cluster-wide periodic job): audits each token crossing 14, 7 or
 * 1 days before its expiry (for refreshable tokens, their renewable-until), once per threshold.
 * The notice and its audit event, and so its webhook messages, share one transaction.
 */
export async function announceExpiring(store: Store, now: Date, limit = 500): Promise<{ expiring: number }> {
  return store.transaction(async (tx) => {
    const found = await tx.webhooks.noteExpiring(now, expiryThresholdsDays, limit);
    for (const token of found) {
      await tx.audit.append(
        auditOf({ clientIp: null, userAgent: null, requestId: null, actor: null }, now, {
          orgId: token.orgId,
          action: 'token.expiring',
          outcome: 'success',
          targetType: 'token',
          targetId: token.tokenId,
          details: { owner_id: token.ownerId, days: token.thresholdDays, expires_at: token.expiresAt.toISOString() },
        }),
      );
    }
    return { expiring: found.length };
  });
}
