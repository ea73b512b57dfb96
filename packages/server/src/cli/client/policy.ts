import type { BodyOf, Policy } from '@tessera/client';
import type { Transport } from './transport.js';

/** Fields left out keep their value. */
export type PolicyChange = BodyOf<'/api/v1/policy', 'put'>;

export function policyOf(t: Transport) {
  return {
    get: (): Promise<Policy> => t.call((signal) => t.api.GET('/api/v1/policy', { signal })),
    set: (body: PolicyChange): Promise<Policy> => t.call((signal) => t.api.PUT('/api/v1/policy', { body, signal })),
  };
}
