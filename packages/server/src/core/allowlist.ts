import { isRuleError, parseIpAllowlist } from '@tessera/rules';
import { invalid } from './errors.js';

/** Validates the entries with the same rules the token endpoint enforces; keeps them as written. */
export function checkIpAllowlist(entries: readonly string[], field: string): readonly string[] {
  try {
    parseIpAllowlist(entries);
    return entries;
  } catch (error) {
    if (isRuleError(error)) throw invalid(field, error.message);
    throw error;
  }
}
