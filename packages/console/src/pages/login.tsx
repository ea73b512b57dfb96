import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemOf, type Problem, type SecondFactorEnrolment } from '../api.js';
import { Field, ProblemAlert, fieldOfProblem } from '../components/form.js';
import { CodeField, EnrolmentInstructions, RecoveryCodes, checkCode, cleanCode } from '../components/two-factor.js';

/**
 * Where the login is: the password; the second factor of an account that has one
 * (401 SECOND_FACTOR_REQUIRED); an enrolment the organization requires before the first login
 * (403 SECOND_FACTOR_ENROLMENT_REQUIRED); or the recovery codes that login answered, once.
 */
type Step = { kind: 'password' } | { kind: 'code' } | { kind: 'enrol'; enrolment: SecondFactorEnrolment } | { kind: 'codes'; codes: string[] };

/**
 * Password login: POST /api/v1/sessions sets the HttpOnly session cookie. When the policy has
 * expired the password (403 PASSWORD_EXPIRED), the same form asks for a new one and logs in
 * through POST /api/v1/sessions/password-change. With two-factor login on, the same request is
 * sent again with the code as `otp`.
 */
export function LoginPage(props: { onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState('');
  const [expired, setExpired] = useState(false);
  const [newPassword, setNewPassword] = useState('');
  const [again, setAgain] = useState('');
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [otp, setOtp] = useState('');
  const [otpChecked, setOtpChecked] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const codeStep = step.kind === 'code' || step.kind === 'enrol';
  const mismatch = expired && again !== '' && again !== newPassword ? 'The two new passwords differ: type the same password twice' : undefined;
  const at = fieldOfProblem(problem, { '/new_password': 'new', '/otp': 'otp' });
  const newPasswordError = expired && at === 'new' ? problem?.detail : undefined;
  const recoveryAllowed = step.kind === 'code';
  const otpInline = codeStep ? checkCode(otp, recoveryAllowed) : undefined;
  const otpError = (otpChecked ? otpInline : undefined) ?? (codeStep && at === 'otp' ? problem?.detail : undefined);
  const heading = useRef<HTMLHeadingElement>(null);

  // Each step replaces the form's fields: focus moves to the code field (its label and hint say
  // what to do), or to the heading of the recovery codes, rather than falling back to the page.
  useEffect(() => {
    if (step.kind === 'password') return;
    (document.querySelector<HTMLElement>('input[name=otp]') ?? heading.current)?.focus();
  }, [step.kind]);

  const credentials = () => ({ username: username.trim(), password, ...(org.trim() && { org: org.trim() }) });

  async function submit(event: Event) {
    event.preventDefault();
    if (mismatch) return;
    if (codeStep) {
      setOtpChecked(true);
      if (otpInline) {
        (event.currentTarget as HTMLFormElement).querySelector<HTMLElement>('input[name=otp]')?.focus();
        return;
      }
    }
    setBusy(true);
    setProblem(undefined);
    const body = { ...credentials(), ...(codeStep && { otp: cleanCode(otp) }) };
    try {
      const session = expired
        ? await api.post<{ recovery_codes?: string[] }>('/sessions/password-change', { ...body, new_password: newPassword })
        : await api.post<{ recovery_codes?: string[] }>('/sessions', body);
      setPassword('');
      setNewPassword('');
      setAgain('');
      setOtp('');
      // A login that completed an enrolment answers the recovery codes: show them before going on.
      if (session.recovery_codes) {
        setStep({ kind: 'codes', codes: session.recovery_codes });
        setBusy(false);
        return;
      }
      await props.onLoggedIn();
    } catch (error) {
      await refused(problemOf(error));
      setBusy(false);
    }
  }

  async function refused(refusal: Problem) {
    if (refusal.code === 'PASSWORD_EXPIRED') {
      setExpired(true);
    } else if (refusal.code === 'SECOND_FACTOR_REQUIRED' && step.kind !== 'code') {
      setStep({ kind: 'code' });
    } else if (refusal.code === 'SECOND_FACTOR_ENROLMENT_REQUIRED' && step.kind !== 'enrol') {
      try {
        setStep({ kind: 'enrol', enrolment: await api.post<SecondFactorEnrolment>('/sessions/second-factor', credentials()) });
      } catch (error) {
        setProblem(problemOf(error));
      }
    } else {
      setProblem(refusal);
    }
  }

  if (step.kind === 'codes') {
    return (
      <main id="main" class="login">
        <section class="card" aria-labelledby="login-title">
          <h1 id="login-title" tabIndex={-1} ref={heading}>
            Two-factor login is on
          </h1>
          <RecoveryCodes codes={step.codes} />
          <div class="actions">
            <button type="button" class="primary" onClick={() => void props.onLoggedIn()}>
              I have saved them — continue
            </button>
          </div>
        </section>
      </main>
    );
  }

  const title = step.kind === 'code' ? 'Enter your authentication code' : step.kind === 'enrol' ? 'Set up two-factor login' : expired ? 'Choose a new password' : 'Log in to Tessera';
  return (
    <main id="main" class="login">
      <form onSubmit={submit} class="card" aria-labelledby="login-title" noValidate={codeStep}>
        <h1 id="login-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {expired && (
          <p class="warning" role="status">
            Your password has expired under your organization’s policy. Choose a new one to log in; your other sessions will end.
          </p>
        )}
        {!newPasswordError && !(codeStep && at === 'otp') && <ProblemAlert problem={problem} />}
        {step.kind === 'enrol' && (
          <>
            <p class="warning">Your organization requires two-factor login. Set up an authenticator app to finish logging in as {username.trim()}.</p>
            <EnrolmentInstructions enrolment={step.enrolment} />
          </>
        )}
        {step.kind === 'code' && <p>Two-factor login is on for {username.trim()}: open your authenticator app and enter the code it shows for Tessera.</p>}
        {codeStep ? (
          <CodeField
            label="Authentication code"
            value={otp}
            error={otpError}
            recovery={recoveryAllowed}
            onInput={(value) => {
              setOtp(value);
              setProblem(undefined);
            }}
            onBlur={() => otp !== '' && setOtpChecked(true)}
          />
        ) : (
          <>
            <Field label="Username">
              {(attrs) => <input {...attrs} name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />}
            </Field>
            <Field label={expired ? 'Current password' : 'Password'}>
              {(attrs) => (
                <input {...attrs} name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
              )}
            </Field>
          </>
        )}
        {expired && !codeStep && (
          <>
            <Field label="New password" error={newPasswordError} hint="12 to 256 characters, not the current one.">
              {(attrs) => (
                <input {...attrs} name="new-password" type="password" autocomplete="new-password" required value={newPassword} onInput={(e) => setNewPassword(e.currentTarget.value)} />
              )}
            </Field>
            <Field label="New password again" error={mismatch}>
              {(attrs) => <input {...attrs} type="password" autocomplete="new-password" required value={again} onInput={(e) => setAgain(e.currentTarget.value)} />}
            </Field>
          </>
        )}
        {!codeStep && (
          <Field label="Organization" hint="Leave empty for the default organization.">
            {(attrs) => <input {...attrs} name="org" autocomplete="organization" value={org} onInput={(e) => setOrg(e.currentTarget.value)} />}
          </Field>
        )}
        <div class="actions">
          {codeStep && (
            <button
              type="button"
              onClick={() => {
                setStep({ kind: 'password' });
                setOtp('');
                setOtpChecked(false);
                setPassword('');
                setProblem(undefined);
              }}
            >
              Back
            </button>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Logging in…' : codeStep ? 'Verify and log in' : expired ? 'Change password and log in' : 'Log in'}
          </button>
        </div>
      </form>
    </main>
  );
}
