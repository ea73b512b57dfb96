import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { authorize } from './authorize.js';
import { auditOf, type ActorContext } from './context.js';
import { invalid, notFound } from './errors.js';
import type { Page } from './model.js';
import { newId, type Clock, type Random } from './ports.js';
import type { ListQuery, Store } from './store.js';
import { isWebhookEventType, webhookEventTypes, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from './webhook-model.js';

export interface WebhookInput {
  readonly url: string;
  readonly events: readonly string[];
  readonly description?: string | undefined;
  readonly enabled?: boolean | undefined;
}

/** Where a webhook may be sent. */
export interface WebhookTargetRules {
  /** `TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS`: loopback, private and link-local targets allowed. */
  readonly allowPrivateNetworks: boolean;
}

/**
 * Addresses a webhook must not reach unless private networks are allowed: an endpoint URL is
 * chosen by an organization admin, and without this rule it would be a way to make the server
 * send requests into its own network (server-side request forgery).
 */
const privateRanges = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ] as const) list.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) list.addSubnet(net, bits, 'ipv6');
  return list;
})();

/** Whether an IP address is loopback, private, link-local or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // An IPv4-mapped address (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return privateRanges.check(mapped[1], 'ipv4');
    return privateRanges.check(address, 'ipv6');
  }
  return privateRanges.check(address, 'ipv4');
}

/**
 * Checks an endpoint URL as written: http(s), no credentials, and, where the host is an IP
 * literal, a public one. Names are resolved and checked at connect time (each attempt), so a
 * name that later resolves to a private address is refused then (no DNS rebinding).
 */
export function checkWebhookUrl(value: string, rules: WebhookTargetRules, field = '/url'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, 'Give an absolute http:// or https:// URL, e.g. https://hooks.example.com/tessera');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(field, 'Only http:// and https:// webhook URLs are supported');
  if (url.username || url.password) throw invalid(field, 'Put no credentials in the URL; verify deliveries with the signing secret instead');
  if (url.hash) throw invalid(field, 'A webhook URL has no #fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!rules.allowPrivateNetworks && (isIP(host) !== 0 ? isPrivateAddress(host) : /^(localhost|.*\.localhost|.*\.local|.*\.internal)$/i.test(host))) {
    throw invalid(field, `${host} is a loopback, private or link-local target; webhooks go to public addresses unless TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`);
  }
  return url;
}

function checkEvents(events: readonly string[]): WebhookEventType[] {
  if (events.length === 0) throw invalid('/events', `Subscribe to at least one event: ${webhookEventTypes.join(', ')}`);
  events.forEach((event, index) => {
    if (!isWebhookEventType(event)) throw invalid(`/events/${index}`, `Unknown event "${event}"; choose from ${webhookEventTypes.join(', ')}`);
  });
  return [...new Set(events as readonly WebhookEventType[])];
}

function wrappingKey(secretKey: Uint8Array): Buffer {
  // Its own key, derived from the server's: a webhook secret must be recoverable to sign with,
  // so it is encrypted (AES-256-GCM), never stored in clear.
  return Buffer.from(hkdfSync('sha256', secretKey, 'tessera', 'webhook-secret-encryption', 32));
}

/** iv (12) ‖ tag (16) ‖ ciphertext; the endpoint id is bound as associated data. */
export function sealWebhookSecret(secretKey: Uint8Array, endpointId: string, secret: string, iv: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(secretKey), iv);
  cipher.setAAD(Buffer.from(endpointId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from(iv), cipher.getAuthTag(), body]);
}

export function openWebhookSecret(secretKey: Uint8Array, endpointId: string, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey(secretKey), sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(endpointId));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
}

/** Webhook endpoints: create (signing secret shown once), list, show, edit, delete, delivery log, redelivery. */
export function createWebhookService(deps: { store: Store; clock: Clock; random: Random; secretKey: Uint8Array; rules: WebhookTargetRules }) {
  const { store, clock, random, secretKey, rules } = deps;
  const guard = (ctx: ActorContext, action: string, targetId: string | null) => authorize(deps, ctx, { kind: 'manage_webhooks' }, { action, targetType: 'webhook', targetId });

  async function existing(ctx: ActorContext, id: string): Promise<WebhookEndpoint> {
    const endpoint = await store.webhooks.get(ctx.actor.orgId, id);
    if (!endpoint) throw notFound('webhook endpoint', id);
    return endpoint;
  }

  return {
    async create(ctx: ActorContext, input: WebhookInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      await guard(ctx, 'webhook.create', null);
      const url = checkWebhookUrl(input.url, rules).href;
      const events = checkEvents(input.events);
      const now = clock.now();
      const endpoint: WebhookEndpoint = {
        id: newId(random, 'whk'),
        orgId: ctx.actor.orgId,
        url,
        description: input.description ?? '',
        events,
        enabled: input.enabled ?? true,
        createdBy: ctx.actor.principalId,
        createdAt: now,
        updatedAt: now,
      };
      // Standard Webhooks: `whsec_` and base64 of the key bytes (24 here, 192 bits).
      const secret = `whsec_${Buffer.from(random.bytes(24)).toString('base64')}`;
      await store.transaction(async (tx) => {
        await tx.webhooks.create(endpoint, sealWebhookSecret(secretKey, endpoint.id, secret, random.bytes(12)));
        await tx.audit.append(auditOf(ctx, now, { action: 'webhook.created', outcome: 'success', targetType: 'webhook', targetId: endpoint.id, details: { url, events } }));
      });
      return { endpoint, secret };
    },

    async list(ctx: ActorContext, query: ListQuery): Promise<Page<WebhookEndpoint>> {
      await guard(ctx, 'webhook.list', null);
      return store.webhooks.list(ctx.actor.orgId, query);
    },

    async get(ctx: ActorContext, id: string): Promise<WebhookEndpoint> {
      await guard(ctx, 'webhook.read', id);
      return existing(ctx, id);
    },

    async update(ctx: ActorContext, id: string, changes: Partial<WebhookInput>): Promise<WebhookEndpoint> {
      await guard(ctx, 'webhook.update', id);
      const url = changes.url === undefined ? undefined : checkWebhookUrl(changes.url, rules).href;
      const events = changes.events === undefined ? undefined : checkEvents(changes.events);
      const before = await existing(ctx, id);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const after = await tx.webhooks.update(ctx.actor.orgId, id, {
          ...(url !== undefined && { url }),
          ...(changes.description !== undefined && { description: changes.description }),
          ...(events !== undefined && { events }),
          ...(changes.enabled !== undefined && { enabled: changes.enabled }),
          updatedAt: now,
        });
        if (!after) throw notFound('webhook endpoint', id);
        const changed: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of ['url', 'description', 'events', 'enabled'] as const) {
          if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = { from: before[key], to: after[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'webhook.updated', outcome: 'success', targetType: 'webhook', targetId: id, details: { changes: changed } }));
        return after;
      });
    },

    async remove(ctx: ActorContext, id: string): Promise<void> {
      await guard(ctx, 'webhook.delete', id);
      const now = clock.now();
      await store.transaction(async (tx) => {
        const endpoint = await tx.webhooks.get(ctx.actor.orgId, id);
        if (!endpoint || !(await tx.webhooks.remove(ctx.actor.orgId, id, now))) throw notFound('webhook endpoint', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'webhook.deleted', outcome: 'success', targetType: 'webhook', targetId: id, details: { url: endpoint.url } }));
      });
    },

    async deliveries(ctx: ActorContext, id: string, query: ListQuery): Promise<Page<WebhookDelivery>> {
      await guard(ctx, 'webhook.read', id);
      await existing(ctx, id);
      return store.webhooks.deliveries(ctx.actor.orgId, id, query);
    },

    async redeliver(ctx: ActorContext, id: string, deliveryId: string): Promise<WebhookDelivery> {
      await guard(ctx, 'webhook.redeliver', id);
      await existing(ctx, id);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const delivery = await tx.webhooks.redeliver(ctx.actor.orgId, id, deliveryId, now);
        if (!delivery) throw notFound('delivery', deliveryId);
        await tx.audit.append(auditOf(ctx, now, { action: 'webhook.redelivered', outcome: 'success', targetType: 'webhook', targetId: id, details: { delivery: deliveryId } }));
        return delivery;
      });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
