import { useState } from 'preact/hooks';

/**
 * Keyset pagination: the API answers a `next_cursor`; going back replays the cursors seen.
 * `cursor` is what the current page was loaded with.
 */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | undefined)[] }>({ key: resetKey, stack: [undefined] });
  const stack = state.key === resetKey ? state.stack : [undefined];
  if (state.key !== resetKey) setState({ key: resetKey, stack });
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (cursor: string) => setState({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: resetKey, stack: stack.slice(0, -1) }),
    first: () => setState({ key: resetKey, stack: [undefined] }),
  };
}

export function Pager(props: { page: number; nextCursor: string | null | undefined; onNext: (cursor: string) => void; onPrevious: () => void; label: string }) {
  if (props.page === 1 && !props.nextCursor) return null;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={props.page === 1} onClick={props.onPrevious}>
        ← Previous
      </button>
      <span aria-live="polite">Page {props.page}</span>
      <button type="button" disabled={!props.nextCursor} onClick={() => props.nextCursor && props.onNext(props.nextCursor)}>
        Next →
      </button>
    </nav>
  );
}
