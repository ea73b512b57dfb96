import { useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api.js';
import { ConfirmDialog } from './dialog.js';
import { Field } from './form.js';
import type { TokenOwner } from './token-dialogs/index.js';

/**
 * "Revoke all of this principal's tokens" (SPEC 9): every token issued until now, and every
 * access token minted from them, stops working; tokens created afterwards are not touched.
 */
export function RevokeAllDialog(props: { owner: TokenOwner; onClose: () => void; onDone: (revoked: number) => void }) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  return (
    <ConfirmDialog
      title={`Revoke all of ${props.owner.username}'s tokens?`}
      message={
        <p>
          Every API token of <strong>{props.owner.username}</strong> issued until now, and every access token minted from them, stops working at once. Tokens created afterwards
          keep working. This cannot be undone.
        </p>
      }
      confirmLabel={busy ? 'Revoking…' : 'Revoke all tokens'}
      danger
      busy={busy}
      error={problem?.detail}
      onClose={props.onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          const result = await api.post<{ revoked: number }>('/tokens/revoke-all', { owner: props.owner.id, ...(reason.trim() && { reason: reason.trim() }) });
          props.onDone(result.revoked);
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
