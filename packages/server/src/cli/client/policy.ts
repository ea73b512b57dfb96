import type { Policy, PolicyChange } from '@tessera/client';
import type { Transport } from './transport.js';

export function policyOf(t: Transport) {
  return {
    get: (): Promise<Policy> => t.call((signal) => t.api.GET('/api/v1/policy', { signal })),
    set: (body: PolicyChange): Promise<Policy> => t.call((signal) => t.api.PUT('/api/v1/policy', { body, signal })),
  };
}
