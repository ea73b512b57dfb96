import QRCode from 'qrcode';
import { useEffect, useState } from 'preact/hooks';
import type { SecondFactorEnrolment } from '../api.js';
import { Field } from './form.js';
import { useCopy } from './one-time-dialog.js';

/**
 * How the QR code is drawn: the console and the browser tests both call qrcode with these, so a
 * test can check that the picture carries exactly the otpauth:// URI the server answered.
 */
export const qrOptions = { type: 'svg', errorCorrectionLevel: 'M', margin: 2 } as const;

/**
 * The otpauth:// URI as a QR code. It is drawn here, in the browser, as an SVG in a data: URL
 * (the console's CSP allows `img-src 'self' data:`), so the seed never leaves the page for a
 * QR service and no inline script or style is needed.
 */
export function QrCode(props: { value: string }) {
  const [src, setSrc] = useState<string>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    QRCode.toString(props.value, qrOptions).then(
      (svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [props.value]);
  if (failed) return <p class="warning">The QR code could not be drawn: enter the key below in your authenticator app instead.</p>;
  if (!src) return <p class="loading">Drawing the QR code…</p>;
  return <img src={src} width={200} height={200} alt="QR code for your authenticator app: scan it to add Tessera" data-testid="totp-qr" />;
}

/** What an authenticator app needs: the QR code, and the key and setup link for typing or pasting. */
export function EnrolmentInstructions(props: { enrolment: SecondFactorEnrolment }) {
  const { secret, otpauth_uri: uri } = props.enrolment;
  // Base32 in groups of four is what people can copy by eye; apps ignore the spaces.
  const grouped = secret.match(/.{1,4}/g)?.join(' ') ?? secret;
  return (
    <div class="enrolment">
      <p>
        1. Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, FreeOTP, …).
      </p>
      <QrCode value={uri} />
      <p>
        Cannot scan it? Add an account by hand with this key (time-based, 6 digits, every 30 seconds):{' '}
        <code data-testid="totp-secret">
          {grouped}
        </code>
      </p>
      <details>
        <summary>Setup link</summary>
        <p class="hint">Some desktop password managers take the link itself.</p>
        <code class="details-json" data-testid="totp-uri">
          {uri}
        </code>
      </details>
      <p>2. Enter the 6-digit code the app now shows for Tessera.</p>
    </div>
  );
}

/** The 6-digit code field (an authenticator's code, or, where allowed, a recovery code). */
export function CodeField(props: { label: string; value: string; error: string | undefined; recovery: boolean; onInput: (value: string) => void; onBlur?: () => void }) {
  return (
    <Field
      label={props.label}
      error={props.error}
      hint={props.recovery ? 'The 6 digits your authenticator app shows, or one of your unused recovery codes.' : 'The 6 digits your authenticator app shows now.'}
    >
      {(attrs) => (
        <input
          {...attrs}
          name="otp"
          autocomplete="one-time-code"
          inputmode={props.recovery ? 'text' : 'numeric'}
          spellcheck={false}
          required
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
          onBlur={props.onBlur}
        />
      )}
    </Field>
  );
}

/**
 * Checks a code before it is sent: 6 digits, or (where accepted) something shaped like a
 * recovery code. The server decides whether it is right; this only catches a typo early.
 */
export function checkCode(value: string, recovery: boolean): string | undefined {
  const code = value.replace(/\s+/g, '');
  if (code === '') return recovery ? 'Enter the 6-digit code from your authenticator app, or a recovery code' : 'Enter the 6-digit code from your authenticator app';
  if (/^\d+$/.test(code)) return code.length === 6 ? undefined : `The code has 6 digits; this one has ${code.length}`;
  if (!recovery) return 'The code is 6 digits (0–9) only';
  return code.length > 64 ? 'A recovery code has at most 64 characters' : undefined;
}

/** The code to send: digits without the spaces people type in the middle ("123 456"). */
export const cleanCode = (value: string) => (/^[\d\s]+$/.test(value) ? value.replace(/\s+/g, '') : value.trim());

/**
 * The recovery codes, shown once right after enrolment: a list, a Copy button, and the warning
 * that they cannot be shown again (the server keeps only their hashes).
 */
export function RecoveryCodes(props: { codes: readonly string[] }) {
  const copy = useCopy({ done: 'Recovery codes copied to the clipboard', failed: 'Copy failed: select the codes and copy them yourself' });
  return (
    <div class="recovery-codes">
      <p class="warning" role="alert">
        Save these recovery codes now: they are shown only this once and cannot be shown again. Each one logs you in once if you lose your authenticator app.
      </p>
      <ol data-testid="recovery-codes" aria-label="Recovery codes">
        {props.codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div class="actions">
        <button type="button" onClick={() => copy.copy(props.codes.join('\n'), null)}>
          Copy recovery codes
        </button>
      </div>
      {copy.notice}
    </div>
  );
}
