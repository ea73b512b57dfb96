import type { Problem } from './api.js';

/**
 * Which form input a problem's `field` (a JSON pointer such as `/ip_allowlist/0` or
 * `/scope/endpoints`) belongs to, among the inputs the form names; undefined for the form as a whole.
 */
export function fieldOfProblem(problem: Problem | undefined, fields: Record<string, string>): string | undefined {
  const pointer = problem?.field;
  if (!pointer) return undefined;
  const candidates = Object.keys(fields).sort((a, b) => b.length - a.length);
  const clean = pointer.startsWith('/') ? pointer : `/${pointer}`;
  const hit = candidates.find((prefix) => clean === prefix || clean.startsWith(`${prefix}/`));
  return hit === undefined ? undefined : fields[hit];
}
