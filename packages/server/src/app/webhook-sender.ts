import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookTransport } from '../core/webhook-dispatch.js';
import { isPrivateAddress } from '../core/webhooks.js';

/**
 * Sends webhook messages over HTTP, signed per Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature` from the `standardwebhooks` package).
 *
 * The target address is checked when the socket connects, through the request's own DNS
 * lookup: a name that resolves to a private address is refused then, whatever it resolved to
 * when the endpoint was saved, and there is no second resolution to race (DNS rebinding).
 * Redirects are not followed (node's client never does) and answers are capped in time and
 * size: a receiver only has to say 2xx.
 */
export function createWebhookSender(options: { readonly allowPrivateNetworks: boolean; readonly timeoutMs: number; readonly userAgent: string }): WebhookTransport {
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = options.allowPrivateNetworks ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused) {
        const blocked = Object.assign(new Error(`${hostname} resolves to ${refused.address}, a loopback, private or link-local address; set TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`), { code: 'EWEBHOOKTARGET' });
        return callback(blocked, '', 0);
      }
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (lookupOptions.all) return callback(null, addresses as unknown as string, 0);
      callback(null, first.address, first.family);
    });
  };

  return {
    send(message) {
      const url = new URL(message.url);
      const signature = new Webhook(message.secret).sign(message.id, message.timestamp, message.body);
      const body = Buffer.from(message.body);
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      // An IP literal skips the lookup hook: judge it here.
      const literal = url.hostname.replace(/^\[|\]$/g, '');
      if (!options.allowPrivateNetworks && isIP(literal) !== 0 && isPrivateAddress(literal)) {
        return Promise.resolve({ error: `${literal} is a loopback, private or link-local address; set TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it` });
      }
      return new Promise((resolve) => {
        const outgoing = request(
          url,
          {
            method: 'POST',
            lookup: guardedLookup,
            timeout: options.timeoutMs,
            headers: {
              'content-type': 'application/json',
              'content-length': body.length,
              'user-agent': options.userAgent,
              'webhook-id': message.id,
              'webhook-timestamp': String(Math.floor(message.timestamp.getTime() / 1000)),
              'webhook-signature': signature,
            },
          },
          (response) => {
            // The body is not read beyond what arrives; the status is the answer.
            response.resume();
            response.on('end', () => resolve({ statusCode: response.statusCode ?? 0 }));
            response.on('error', () => resolve({ statusCode: response.statusCode ?? 0 }));
          },
        );
        outgoing.on('timeout', () => outgoing.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code === 'EWEBHOOKTARGET' || error.code === 'ETIMEDOUT' ? error.message : `connection failed (${error.code ?? 'error'})` }));
        outgoing.end(body);
      });
    },
  };
}
