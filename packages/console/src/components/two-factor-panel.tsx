import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemOf, type Policy, type Problem, type SecondFactorEnrolment, type SecondFactorStatus } from '../api.js';
import { useLoad } from '../use-load.js';
import { Dialog, DialogActions } from './dialog.js';
import { ProblemAlert, fieldOfProblem } from './form.js';
import { CodeField, EnrolmentInstructions, RecoveryCodes, checkCode, cleanCode } from './two-factor.js';
import { useFirstFieldFocus } from './first-field.js';

/** A code form's state: the value, whether to show the inline check yet (after blur or submit), the server's refusal. */
function useCodeForm(recovery: boolean) {
  const [code, setCode] = useState('');
  const [checked, setChecked] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const inline = checkCode(code, recovery);
  const atCode = fieldOfProblem(problem, { '/code': 'code' }) === 'code';
  return {
    code,
    problem,
    /** The field's error: the inline check once the field was left or the form sent, else the server's. */
    error: (checked ? inline : undefined) ?? (atCode ? problem?.detail : undefined),
    formProblem: problem && !atCode ? problem : undefined,
    input: (value: string) => {
      setCode(value);
      setProblem(undefined);
    },
    blur: () => code !== '' && setChecked(true),
    busy,
    /**
     * The form's submit handler: with the inline check passed, sends the cleaned code; otherwise
     * shows the check and focuses the field. A refusal is shown and the button enabled again.
     */
    submit: (send: (code: string) => Promise<void>) => async (event: Event) => {
      event.preventDefault();
      setChecked(true);
      if (inline) {
        (event.currentTarget as HTMLFormElement).querySelector<HTMLElement>('input[name=otp]')?.focus();
        return;
      }
      setBusy(true);
      try {
        await send(cleanCode(code));
      } catch (error) {
        setProblem(problemOf(error));
        setBusy(false);
      }
    },
  };
}

/** Enrolment: the QR code and key, then the first code confirms it and answers the recovery codes. */
function EnrolDialog(props: { enrolment: SecondFactorEnrolment; onClose: () => void; onConfirmed: (codes: string[]) => void }) {
  const firstField = useFirstFieldFocus();
  const form = useCodeForm(false);
  const submit = form.submit(async (code) => {
    const answer = await api.post<{ recovery_codes: string[] }>('/me/second-factor/confirm', { code });
    props.onConfirmed(answer.recovery_codes);
  });

  return (
    <Dialog title="Set up two-factor login" onClose={props.onClose} testId="enrol-dialog" wide>
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={form.formProblem} testId="dialog-problem" />
        <EnrolmentInstructions enrolment={props.enrolment} />
        <CodeField label="Authentication code" value={form.code} error={form.error} recovery={false} onInput={form.input} onBlur={form.blur} />
        <DialogActions label={form.busy ? 'Checking…' : 'Turn on two-factor login'} busy={form.busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

/** The recovery codes, once, in a dialog that must be acknowledged (Escape does not close it). */
function RecoveryCodesDialog(props: { codes: readonly string[]; onClose: () => void }) {
  return (
    <Dialog title="Two-factor login is on: your recovery codes" onClose={props.onClose} dismissable={false} testId="recovery-codes-dialog" wide>
      <RecoveryCodes codes={props.codes} />
      <div class="actions">
        <button type="button" class="primary" onClick={props.onClose}>
          I have saved them — close
        </button>
      </div>
    </Dialog>
  );
}

/** Turning it off needs a current code (or a recovery code), as the API does. */
function DisableDialog(props: { onClose: () => void; onDisabled: () => void }) {
  const firstField = useFirstFieldFocus();
  const form = useCodeForm(true);
  const submit = form.submit(async (code) => {
    await api.post('/me/second-factor/disable', { code });
    props.onDisabled();
  });

  return (
    <Dialog title="Turn off two-factor login" onClose={props.onClose} testId="disable-2fa-dialog">
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={form.formProblem} testId="dialog-problem" />
        <p>After this, your password alone logs you in. Your authenticator app’s entry and your recovery codes stop working.</p>
        <CodeField label="Authentication code" value={form.code} error={form.error} recovery onInput={form.input} onBlur={form.blur} />
        <DialogActions label="Turn off" danger busy={form.busy} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

type Open = { kind: 'enrol'; enrolment: SecondFactorEnrolment } | { kind: 'codes'; codes: string[] } | { kind: 'disable' } | undefined;

/** Profile → Two-factor login: the status, enrolment with a QR code, and turning it off. */
export function TwoFactorPanel() {
  const [round, setRound] = useState(0);
  const status = useLoad(async () => {
    const [factor, policy] = await Promise.all([api.get<SecondFactorStatus>('/me/second-factor'), api.get<Policy>('/policy')]);
    return { factor, required: policy.require_second_factor };
  }, `second-factor|${round}`);
  const [open, setOpen] = useState<Open>();
  const [starting, setStarting] = useState<Problem>();
  const [notice, setNotice] = useState('');
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const done = (message: string) => {
    setOpen(undefined);
    setNotice(message);
    setRound((r) => r + 1);
  };
  // The button that opened the dialog is gone once the status changes: focus goes to the
  // confirmation instead of falling back to the page.
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  async function start() {
    setStarting(undefined);
    setNotice('');
    try {
      setOpen({ kind: 'enrol', enrolment: await api.post<SecondFactorEnrolment>('/me/second-factor') });
    } catch (error) {
      setStarting(problemOf(error));
    }
  }

  const data = status.data;
  return (
    <section aria-labelledby="two-factor-heading" class="narrow">
      <h2 id="two-factor-heading">Two-factor login</h2>
      <p class="hint">With it on, logging in to the console or with <code>tessera login</code> asks for a code from an authenticator app after your password. Token exchanges never ask for one.</p>
      <ProblemAlert problem={status.problem ?? starting} />
      <p class={notice ? 'success' : undefined} role="status" tabIndex={-1} ref={noticeRef}>
        {notice}
      </p>
      {data && (
        <>
          <p data-testid="two-factor-status">
            Status:{' '}
            <span class={`badge status-${data.factor.enabled ? 'active' : 'disabled'}`}>{data.factor.enabled ? 'on' : 'off'}</span>
            {data.factor.enabled && ` · ${data.factor.recovery_codes_left} of 10 recovery codes left`}
            {data.required && ' · required by your organization'}
          </p>
          {data.factor.enabled && data.factor.recovery_codes_left <= 3 && (
            <p class="warning">Few recovery codes are left. To get new ones, turn two-factor login off and on again{data.required ? ' (ask an administrator to reset it, since your organization requires it)' : ''}.</p>
          )}
          <div class="actions">
            {!data.factor.enabled && (
              <button type="button" class="primary" onClick={start}>
                Set up two-factor login
              </button>
            )}
            {data.factor.enabled && !data.required && (
              <button type="button" class="danger" onClick={() => setOpen({ kind: 'disable' })}>
                Turn off two-factor login
              </button>
            )}
          </div>
          {data.factor.enabled && data.required && <p class="hint">Your organization requires two-factor login, so it cannot be turned off here. Lost your phone? An administrator can reset it; you then enrol again at your next login.</p>}
        </>
      )}
      {open?.kind === 'enrol' && <EnrolDialog enrolment={open.enrolment} onClose={() => done('')} onConfirmed={(codes) => setOpen({ kind: 'codes', codes })} />}
      {open?.kind === 'codes' && <RecoveryCodesDialog codes={open.codes} onClose={() => done('Two-factor login is on. Your next login asks for a code.')} />}
      {open?.kind === 'disable' && <DisableDialog onClose={() => setOpen(undefined)} onDisabled={() => done('Two-factor login is off.')} />}
    </section>
  );
}
