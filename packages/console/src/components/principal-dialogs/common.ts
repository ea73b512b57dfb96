import { useState } from 'preact/hooks';
import { api, type Principal } from '../../api.js';

export type Kind = Principal['kind'];
export const pathOf = (kind: Kind) => (kind === 'user' ? '/users' : '/service-accounts');
export const nounOf = (kind: Kind) => (kind === 'user' ? 'user' : 'service account');

/** PATCH /users/:id or /service-accounts/:id: the one edit route; the server audits each change. */
export function patchPrincipal(principal: Principal, body: Record<string, unknown>): Promise<Principal> {
  return api.patch<Principal>(`${pathOf(principal.kind)}/${encodeURIComponent(principal.id)}`, body);
}

/**
 * Which fields show their inline check: a field once it was left (blur) with something in it,
 * and every field once the form was sent, so typing a valid value is never announced as an
 * error halfway through.
 */
export function useChecked() {
  const [fields, setFields] = useState<ReadonlySet<string>>(new Set());
  const [all, setAll] = useState(false);
  return {
    shown: (name: string) => all || fields.has(name),
    blur: (name: string) => setFields((set) => (set.has(name) ? set : new Set([...set, name]))),
    submit: () => setAll(true),
  };
}

/** Focuses the first field the form marks invalid, once the refused submit has re-rendered it. */
export function focusInvalid(form: EventTarget | null): void {
  if (!(form instanceof HTMLFormElement)) return;
  setTimeout(() => form.querySelector<HTMLElement>('[aria-invalid=true]')?.focus(), 0);
}

