import { useEffect, useRef } from 'preact/hooks';

/**
 * Focuses the form's first field when its dialog opens. Dialog (dialog.tsx) focuses the first
 * focusable element, which is the header's × button; this runs after it (a task later) so the
 * person can type at once. Redundant, and harmless, once Dialog itself picks the first field.
 */
export function useFirstFieldFocus() {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    const timer = setTimeout(() => ref.current?.querySelector<HTMLElement>('input:not([type=hidden]):not([readonly]):not([disabled]), select, textarea')?.focus(), 0);
    return () => clearTimeout(timer);
  }, []);
  return ref;
}
