import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api.js';
import { ConfirmDialog } from './dialog.js';

/**
 * A confirmation that runs one request (delete an app, regenerate its secret, delete a
 * webhook endpoint): busy while it runs, the server's refusal shown in the dialog.
 */
export function ActionConfirm(props: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  action: () => Promise<void>;
  onClose: () => void;
}) {
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  return (
    <ConfirmDialog
      title={props.title}
      message={props.message}
      confirmLabel={props.confirmLabel}
      danger={props.danger ?? true}
      busy={busy}
      error={problem?.detail}
      onClose={props.onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          await props.action();
        } catch (error) {
          setProblem(problemOf(error));
          setBusy(false);
        }
      }}
    />
  );
}

/** The confirmation of a Delete on a list page: DELETE `path`, then `onDeleted` (close, reload, say so). */
export function DeleteConfirm(props: { title: string; message: ComponentChildren; confirmLabel: string; path: string; onClose: () => void; onDeleted: () => void }) {
  return (
    <ActionConfirm
      title={props.title}
      message={props.message}
      confirmLabel={props.confirmLabel}
      onClose={props.onClose}
      action={async () => {
        await api.delete(props.path);
        props.onDeleted();
      }}
    />
  );
}
