import { useEffect, useRef } from 'preact/hooks';

/**
 * Focuses the form's first field (else its first button) when its dialog opens. Dialog
 * (dialog.tsx) focuses the first focusable element, which is the header's × button; this runs
 * after it (a task later) so the person can type at once. Redundant, and harmless, once Dialog
 * itself picks the first field. `ready` is false while the fields are still loading; the focus
 * waits for it.
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
