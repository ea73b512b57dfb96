import { useEffect, useRef } from 'preact/hooks';

/**
 * Focuses the form's first field (else its first button) when its dialog opens, after Dialog's
 * own choice (a task later). Dialog picks the first field on open; this matters where the fields
 * come later (the roles dialog's checkboxes arrive with the roles): `ready` is false while they
 * load, and the focus waits for it.
 */
export function useFirstFieldFocus(ready = true) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!ready) return undefined;
    const timer = setTimeout(() => {
      const form = ref.current;
      // A confirmation without fields: its first button (Cancel), the safe choice, not ×.
      (form?.querySelector<HTMLElement>('input:not([type=hidden]):not([readonly]):not([disabled]), select, textarea') ?? form?.querySelector<HTMLElement>('button'))?.focus();
    }, 0);
    return () => clearTimeout(timer);
  }, [ready]);
  return ref;
}
