import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { problemOf, type Problem } from '../api.js';
import { checkLength } from '../validate.js';
import { announce } from './announce.js';
import { ConfirmDialog } from './dialog.js';
import { Field, useBlurChecks } from './form.js';

/** The server's limit on a revoke reason (the route schema's maxLength). */
const maxReason = 500;

/**
 * A revoke confirmation with an optional reason for the audit log, shared by "Revoke" of one
 * token and "Revoke all": `revoke` sends the request and answers what the live region says.
 */
export function RevokeConfirm(props: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  revoke: (reason: string | undefined) => Promise<string>;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const checks = useBlurChecks({ reason: checkLength(reason, maxReason, 'A reason') });
  return (
    <ConfirmDialog
      title={props.title}
      message={props.message}
      confirmLabel={busy ? 'Revoking…' : props.confirmLabel}
      danger
      busy={busy}
      error={problem?.detail}
      onClose={props.onClose}
      onConfirm={async () => {
        if (!checks.submit()) return;
        setBusy(true);
        try {
          const said = await props.revoke(reason.trim() || undefined);
          announce(said);
          props.onDone();
        } catch (error) {
          setProblem(problemOf(error));
          setBusy(false);
        }
      }}
    >
      <Field label="Reason (optional, kept in the audit log)" error={checks.errors.reason} count={{ length: reason.trim().length, max: maxReason }}>
        {(attrs) => <input {...attrs} value={reason} onInput={(e) => setReason(e.currentTarget.value)} onBlur={(e) => checks.blur('reason', e)} />}
      </Field>
    </ConfirmDialog>
  );
}
