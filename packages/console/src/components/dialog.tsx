import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/**
 * A modal on the native <dialog> element opened with showModal(): the browser makes the rest of
 * the page inert (focus stays inside), Escape closes it, and focus returns to the opener.
 */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** A dialog that must be acknowledged (the one-time secret) ignores Escape. */
  dismissable?: boolean;
  wide?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);
  const onCloseRef = useRef(props.onClose);
  onCloseRef.current = props.onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    opener.current = document.activeElement;
    if (!dialog.open) dialog.showModal();
    // Focus the first field of the body, not the header's ×: an autofocus attribute, else the
    // first editable field, else the body's first button (a confirmation), else ×.
    const body = dialog.querySelector('.dialog-body');
    const pick = (selector: string) => body?.querySelector<HTMLElement>(selector) ?? null;
    const first =
      pick('[autofocus]') ??
      pick('input:not([type=hidden]):not([readonly]):not([disabled]), select:not([disabled]), textarea:not([disabled])') ??
      pick('input, button:not([disabled])') ??
      dialog.querySelector<HTMLElement>('button');
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      // Back to the opener (a row's ⋯ stays in the row even once the token is revoked).
      if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      class={props.wide ? 'dialog wide' : 'dialog'}
      aria-labelledby={titleId}
      data-testid={props.testId}
      onCancel={(event) => {
        event.preventDefault();
        if (props.dismissable !== false) onCloseRef.current();
      }}
    >
      <header class="dialog-header">
        <h2 id={titleId}>{props.title}</h2>
        {props.dismissable !== false && (
          <button type="button" class="icon" aria-label="Close" onClick={() => onCloseRef.current()}>
            ×
          </button>
        )}
      </header>
      <div class="dialog-body">{props.children}</div>
    </dialog>
  );
}

/** Asks before an irreversible action. */
export function ConfirmDialog(props: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | undefined;
  onConfirm: () => void;
  onClose: () => void;
  children?: ComponentChildren;
}) {
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          props.onConfirm();
        }}
      >
        <div class="confirm-message">{props.message}</div>
        {props.children}
        {props.error && (
          <p class="problem" role="alert">
            {props.error}
          </p>
        )}
        <DialogActions label={props.confirmLabel} danger={props.danger} busy={props.busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

/** A dialog form's buttons: Cancel, then the submit button, disabled while its request runs. */
export function DialogActions(props: { label: ComponentChildren; danger?: boolean | undefined; busy?: boolean | undefined; onCancel: () => void }) {
  return (
    <div class="actions">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={props.busy}>
        {props.label}
      </button>
    </div>
  );
}
