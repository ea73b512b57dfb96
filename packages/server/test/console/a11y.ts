import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/**
 * axe-core's source, read once. It is evaluated through the DevTools protocol (page.evaluate),
 * which the console's CSP (`script-src 'self'`) does not govern, so neither the server nor the
 * test browser's context has to relax it; a context made with `bypassCSP: true` works as well.
 */
let axeSource: string | undefined;
function source(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/** One axe finding, flattened to what a failing test should print. */
export interface A11yViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  targets: string[];
}

/** The rule sets run: WCAG 2.0–2.2 A and AA plus axe's best practices. */
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/**
 * Runs axe-core on what `page` shows now and returns the violations (empty when none).
 * `include` narrows the audit to a selector (e.g. one dialog); by default the whole document.
 */
export async function a11yViolations(page: Page, include?: string): Promise<A11yViolation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(source());
  return page.evaluate(
    async ({ include, tags }) => {
      type AxeResult = { id: string; impact: string | null; help: string; helpUrl: string; nodes: { target: unknown[] }[] };
      const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeResult[] }> } }).axe;
      const results = await axe.run(include ?? document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
    },
    { include, tags },
  );
}

/** A readable list: one line a rule, the offending elements beneath it. */
export function formatViolations(violations: A11yViolation[]): string {
  return violations.map((v) => `- ${v.id} (${v.impact ?? 'n/a'}): ${v.help}\n    ${v.targets.join('\n    ')}\n    ${v.helpUrl}`).join('\n');
}

/**
 * Fails the test, naming the state (`label`, e.g. "tokens page 390×844, revoke dialog"), when
 * axe-core finds any violation in what the page shows now.
 */
export async function expectNoA11yViolations(page: Page, label: string, include?: string): Promise<void> {
  const violations = await a11yViolations(page, include);
  assert.equal(violations.length, 0, `axe-core: ${violations.length} violation(s) in ${label}:\n${formatViolations(violations)}`);
}
