import { useRef, useState } from 'preact/hooks';
import { Dialog } from './dialog.js';

/** Copies text: the Clipboard API where the browser allows it, else selecting the field and copying. */
export async function copyText(text: string, field: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!field) return false;
    field.select();
    return document.execCommand('copy');
  }
}

function SecretField(props: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState<string>('');
  const input = useRef<HTMLInputElement>(null);
  return (
    <div class="field secret">
      <label for={`${props.testId}-value`}>{props.label}</label>
      <div class="secret-row">
        <input
          id={`${props.testId}-value`}
          ref={input}
          readOnly
          value={props.value}
          data-testid={props.testId}
          spellcheck={false}
          autocomplete="off"
          onFocus={(event) => (event.currentTarget as HTMLInputElement).select()}
        />
        <button
          type="button"
          onClick={async () => setCopied((await copyText(props.value, input.current)) ? 'Copied to the clipboard' : 'Copy failed: select the text and copy it yourself')}
        >
          Copy
        </button>
      </div>
      <p class="hint" aria-live="polite">
        {copied}
      </p>
    </div>
  );
}

/**
 * Shows a new secret (API token, access token, client secret) once. Nothing keeps it after the
 * dialog closes: it is not stored, not put in the URL, and the lists never show it.
 */
export function OneTimeDialog(props: {
  title: string;
  secrets: { label: string; value: string; testId: string }[];
  note?: string;
  onClose: () => void;
}) {
  return (
    <Dialog title={props.title} onClose={props.onClose} dismissable={false} testId="one-time-dialog" wide>
      <p class="warning" role="alert">
        Copy it now and keep it safe: this is the only time it is shown. It cannot be shown again; if it is lost, rotate or create a new one.
      </p>
      {props.secrets.map((secret) => (
        <SecretField key={secret.testId} {...secret} />
      ))}
      {props.note && <p class="hint">{props.note}</p>}
      <div class="actions">
        <button type="button" class="primary" onClick={props.onClose}>
          I have stored it — close
        </button>
      </div>
    </Dialog>
  );
}
