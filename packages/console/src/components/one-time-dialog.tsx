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

/**
 * A Copy button's action and what it tells: the outcome in a polite live region (`notice`,
 * placed after the button), so a screen reader hears it without leaving the button.
 */
export function useCopy(messages: { done: string; failed: string }) {
  const [copied, setCopied] = useState('');
  return {
    copy: async (text: string, field: HTMLInputElement | null) => setCopied((await copyText(text, field)) ? messages.done : messages.failed),
    notice: (
      <p class="hint" aria-live="polite">
        {copied}
      </p>
    ),
  };
}

function SecretField(props: { label: string; value: string; testId: string }) {
  const copy = useCopy({ done: 'Copied to the clipboard', failed: 'Copy failed: select the text and copy it yourself' });
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
        <button type="button" onClick={() => copy.copy(props.value, input.current)}>
          Copy
        </button>
      </div>
      {copy.notice}
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
