import type { Page } from './model.js';

/** A page request (the store's ListQuery, restated here so the store port can import this file). */
export interface WebhookListQuery {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/**
 * Events an endpoint may subscribe to (SPEC 9). Each is the audit action of the change it
 * announces: the store writes a message for every subscribed endpoint in the same
 * statement as the audit row, so the outbox can neither miss a committed change nor announce one
 * that rolled back.
 */
export const webhookEventTypes = [
  'token.created',
  'token.updated',
  'token.rotated',
  'token.revoked',
  'token.expiring',
  'token.expired',
  'token.idle',
  'token.leaked',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export function isWebhookEventType(action: string): action is WebhookEventType {
  return (webhookEventTypes as readonly string[]).includes(action);
}

/** `token.expiring` fires this many days before a token expires, once per threshold. */
export const expiryThresholdsDays = [14, 7, 1] as const;

export interface WebhookEndpoint {
  readonly id: string;
  readonly orgId: string;
  readonly url: string;
  readonly description: string;
  readonly events: readonly WebhookEventType[];
  readonly enabled: boolean;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** One message to one endpoint: its id is the `webhook-id` of every attempt. */
export interface WebhookDelivery {
  readonly id: string;
  readonly endpointId: string;
  readonly eventType: string;
  readonly createdAt: Date;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastAttemptAt: Date | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: Date | null;
}

/** A message claimed for sending, with what signing it needs. */
export interface DueWebhookMessage {
  readonly id: string;
  readonly orgId: string;
  readonly endpointId: string;
  readonly url: string;
  readonly secretCipher: Buffer;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
  /** Attempts made before this one. */
  readonly attempts: number;
}

export interface WebhookRepository {
  create(endpoint: WebhookEndpoint, secretCipher: Buffer): Promise<void>;
  get(orgId: string, id: string): Promise<WebhookEndpoint | undefined>;
  list(orgId: string, query: WebhookListQuery): Promise<Page<WebhookEndpoint>>;
  update(orgId: string, id: string, patch: { url?: string; description?: string; events?: readonly WebhookEventType[]; enabled?: boolean; updatedAt: Date }): Promise<WebhookEndpoint | undefined>;
  /** Soft delete; its pending messages are cancelled. */
  remove(orgId: string, id: string, at: Date): Promise<boolean>;
  deliveries(orgId: string, endpointId: string, query: WebhookListQuery): Promise<Page<WebhookDelivery>>;
  /** Makes a message due again now (redelivery), whatever its status. */
  redeliver(orgId: string, endpointId: string, id: string, at: Date): Promise<WebhookDelivery | undefined>;
  /**
   * Claims up to `limit` due messages for `leaseSeconds` (SKIP LOCKED, so instances never claim
   * the same one); a message whose sender died is due again when its lease passes.
   */
  claimDue(now: Date, limit: number, leaseSeconds: number): Promise<DueWebhookMessage[]>;
  /** The outcome of one attempt: delivered, retried at `retryAt`, or failed for good (`retryAt` null). */
  recordAttempt(id: string, outcome: { readonly at: Date; readonly delivered: boolean; readonly statusCode: number | null; readonly error: string | null; readonly retryAt: Date | null }): Promise<void>;
  /**
   * Tokens that cross an expiry threshold for the first time: for each live token expiring
   * within the largest threshold, the smallest threshold it is within, if no notice for that
   * threshold (or a smaller one) was recorded for its current expiry. Records the notices.
   */
  noteExpiring(now: Date, thresholdsDays: readonly number[], limit: number): Promise<{ tokenId: string; orgId: string; ownerId: string; thresholdDays: number; expiresAt: Date }[]>;
}
