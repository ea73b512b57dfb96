import { useState } from 'preact/hooks';
import { api, problemOf, type Principal, type Problem } from '../../api.js';
import { ActionConfirm } from '../action-confirm.js';
import { Dialog, DialogActions } from '../dialog.js';
import { Field, ProblemAlert, fieldOfProblem } from '../form.js';
import { focusInvalid, nounOf, pathOf, patchPrincipal, useChecked } from './common.js';
import { useFirstFieldFocus } from '../first-field.js';

/** The password rule of the server (core/auth.ts passwordRules), checked there too. */
const password = { min: 12, max: 256 };

/** Disabling ends the principal's sessions and makes its tokens unusable at once; enabling undoes it. */
export function StatusDialog(props: { principal: Principal; onClose: () => void; onSaved: (updated: Principal, message: string) => void }) {
  const p = props.principal;
  const disabling = p.status === 'active';
  return (
    <ActionConfirm
      title={disabling ? `Disable ${p.username}?` : `Enable ${p.username}?`}
      message={
        disabling ? (
          <p>
            {p.username} can no longer log in or use any of its tokens: its sessions end now, and every token is refused until the {nounOf(p.kind)} is enabled again. The tokens are kept, not
            revoked.
          </p>
        ) : (
          <p>{p.username} can log in and use its tokens again (those not expired or revoked meanwhile).</p>
        )
      }
      confirmLabel={disabling ? 'Disable' : 'Enable'}
      danger={disabling}
      onClose={props.onClose}
      action={async () => {
        const status = disabling ? 'disabled' : 'active';
        props.onSaved(await patchPrincipal(p, { status }), disabling ? `${p.username} is disabled.` : `${p.username} is enabled.`);
      }}
    />
  );
}

/** An administrator sets a user's new password; the user's sessions end (the server does that and audits it). */
export function ResetPasswordDialog(props: { principal: Principal; onClose: () => void; onSaved: (updated: Principal, message: string) => void }) {
  const firstField = useFirstFieldFocus();
  const p = props.principal;
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const checked = useChecked();
  const inline = {
    password:
      next.length === 0
        ? 'Enter the new password'
        : next.length < password.min || next.length > password.max
          ? `The new password has ${password.min} to ${password.max} characters; this one has ${next.length}`
          : undefined,
    again: again !== next ? 'The two new passwords differ: type the same password twice' : undefined,
  };
  const at = fieldOfProblem(problem, { '/password': 'password' });
  const error = (field: keyof typeof inline) => (checked.shown(field) ? inline[field] : undefined) ?? (at === field ? problem?.detail : undefined);

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget;
    checked.submit();
    if (inline.password || inline.again) return focusInvalid(form);
    setBusy(true);
    try {
      props.onSaved(await patchPrincipal(p, { password: next }), `Password of ${p.username} reset; their sessions have ended.`);
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
      focusInvalid(form);
    }
  }

  return (
    <Dialog title={`Reset the password of ${p.username}`} onClose={props.onClose} testId="reset-password-dialog">
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={problem && !at ? problem : undefined} testId="dialog-problem" />
        <p>Every session of {p.username} ends. Tell them the new password another way, and ask them to change it.</p>
        <Field label="New password" error={error('password')} hint={`${password.min} to ${password.max} characters.`}>
          {(attrs) => (
            <input
              {...attrs}
              type="password"
              autocomplete="new-password"
              value={next}
              onInput={(e) => {
                setNext(e.currentTarget.value);
                setProblem(undefined);
              }}
              onBlur={() => next !== '' && checked.blur('password')}
            />
          )}
        </Field>
        <Field label="New password again" error={error('again')}>
          {(attrs) => (
            <input {...attrs} type="password" autocomplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} onBlur={() => again !== '' && checked.blur('again')} />
          )}
        </Field>
        <DialogActions label="Reset password" busy={busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

/** A lost phone: the user's authenticator is forgotten, and they enrol again at their next login. */
export function ResetSecondFactorDialog(props: { principal: Principal; onClose: () => void; onDone: (message: string) => void }) {
  const p = props.principal;
  return (
    <ActionConfirm
      title={`Reset two-factor login of ${p.username}?`}
      message={
        <p>
          For a lost or replaced phone: {p.username}’s authenticator app and recovery codes stop working. Their password alone logs them in until they set up two-factor login again (at once, where
          the organization requires it).
        </p>
      }
      confirmLabel="Reset two-factor login"
      danger
      onClose={props.onClose}
      action={async () => {
        await api.delete(`/users/${encodeURIComponent(p.id)}/second-factor`);
        props.onDone(`Two-factor login of ${p.username} reset.`);
      }}
    />
  );
}

/** Deleting cannot be undone: the username is typed to confirm. */
export function DeletePrincipalDialog(props: { principal: Principal; onClose: () => void; onDeleted: () => void }) {
  const firstField = useFirstFieldFocus();
  const p = props.principal;
  const [typed, setTyped] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const checked = useChecked();
  const inline = typed.trim() === p.username ? undefined : typed.trim() === '' ? `Type the username ${p.username} to confirm` : `Username “${typed.trim()}” is not ${p.username}: type ${p.username} to confirm`;
  const error = checked.shown('confirm') ? inline : undefined;

  async function submit(event: Event) {
    event.preventDefault();
    checked.submit();
    if (inline) return focusInvalid(event.currentTarget);
    setBusy(true);
    try {
      await api.delete(`${pathOf(p.kind)}/${encodeURIComponent(p.id)}`);
      props.onDeleted();
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Delete ${nounOf(p.kind)} ${p.username}?`} onClose={props.onClose} testId="delete-principal-dialog">
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={problem} testId="dialog-problem" />
        <p>
          This cannot be undone. {p.username}’s sessions end and its tokens stop working at once. The audit log keeps what it did.
        </p>
        <Field label="Username to confirm" error={error}>
          {(attrs) => (
            <input
              {...attrs}
              autocomplete="off"
              spellcheck={false}
              value={typed}
              onInput={(e) => {
                setTyped(e.currentTarget.value);
                setProblem(undefined);
              }}
              onBlur={() => typed !== '' && checked.blur('confirm')}
            />
          )}
        </Field>
        <DialogActions label={`Delete ${nounOf(p.kind)}`} danger busy={busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
