import { useEffect, useState } from 'preact/hooks';

/**
 * One polite live region for the whole console: "API token revoked", "Saved". A change that
 * closes a dialog is otherwise silent for a screen reader (the row only changes its badge).
 * The region is always in the page, so assistive technology has seen it before it speaks.
 */
let speak: ((message: string) => void) | undefined;

/** Says `message` politely; the same message twice in a row is said twice. */
export function announce(message: string): void {
  speak?.('');
  // A new text node after an empty one: screen readers announce a repeat too.
  setTimeout(() => speak?.(message), 50);
}

export function LiveRegion() {
  const [message, setMessage] = useState('');
  useEffect(() => {
    speak = setMessage;
    return () => {
      if (speak === setMessage) speak = undefined;
    };
  }, []);
  return (
    <p class="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
      {message}
    </p>
  );
}
