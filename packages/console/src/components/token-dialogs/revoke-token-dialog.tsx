import { useState } from 'preact/hooks';
import { api, problemOf, type Problem, type Token } from '../../api.js';
import { ConfirmDialog } from '../dialog.js';
import { Field } from '../form.js';

/** Revoke, after confirmation; irreversible. */
export function RevokeTokenDialog(props: { token: Token; onClose: () => void; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  return (
    <ConfirmDialog
      title={`Revoke ${props.token.name}?`}
      message={
        <p>
          The token <strong>{props.token.name}</strong> of {props.token.owner} and every access token minted from it stop working at once. This cannot be undone.
        </p>
      }
      confirmLabel={busy ? 'Revoking…' : 'Revoke token'}
      danger
      busy={busy}
      error={problem?.detail}
      onClose={props.onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          await api.post<Token>(`/tokens/${encodeURIComponent(props.token.id)}/revoke`, reason.trim() ? { reason: reason.trim() } : {});
          props.onDone();
        } catch (error) {
          setProblem(problemOf(error));
          setBusy(false);
        }
      }}
    >
      <Field label="Reason (optional, kept in the audit log)">
        {(attrs) => <input {...attrs} value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />}
      </Field>
    </ConfirmDialog>
  );
}
