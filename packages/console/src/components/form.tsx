import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import type { Problem } from '../api.js';

export { fieldOfProblem } from '../problem-field.js';

/**
 * A labelled input with its error beside it. The error is either an inline check from
 * @tessera/rules or the `detail` of the server's problem whose `field` names this input.
 */
export function Field(props: {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  /** A length limit shown as a counter ("12 / 100 characters") under the field. */
  count?: { length: number; max: number };
  children: (attrs: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: 'true' }) => ComponentChildren;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const countId = `${id}-count`;
  const described = [props.hint ? hintId : '', props.count ? countId : '', props.error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.children({ id, ...(described && { 'aria-describedby': described }), ...(props.error && { 'aria-invalid': 'true' as const }) })}
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.count && (
        <p class={props.count.length > props.count.max ? 'hint counter over' : 'hint counter'} id={countId}>
          {props.count.length} / {props.count.max} characters
        </p>
      )}
      {props.error && (
        <p class="field-error" id={errorId} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A problem for the page or form as a whole: its detail, and what to do when it is a 401/403. */
export function ProblemAlert(props: { problem: Problem | undefined; testId?: string }) {
  if (!props.problem) return null;
  const { problem } = props;
  return (
    <div class="problem" role="alert" data-testid={props.testId ?? 'problem'}>
      <strong>{problem.title}</strong>
      <p>{problem.detail}</p>
      {problem.status === 403 && <p class="hint">Ask an administrator of your organization for the right, or go back to your profile.</p>}
      {problem.request_id && <p class="hint">Request id: {problem.request_id}</p>}
    </div>
  );
}

/**
 * Inline checks shown on blur and on submit, not on each keystroke: a value being typed
 * (10.0.0.0/8 is invalid until its last character) is not announced as an error. A message
 * shown stays as it was until the next blur, and goes as soon as the value is fine again.
 * `current` is every field's check on the form as it is now.
 */
export function useBlurChecks<K extends string>(current: Partial<Record<K, string | undefined>>) {
  const [shown, setShown] = useState<Partial<Record<K, string | undefined>>>({});
  const errors: Partial<Record<K, string | undefined>> = {};
  for (const key of Object.keys(shown) as K[]) errors[key] = current[key] === undefined ? undefined : shown[key];
  return {
    errors,
    /**
     * Shows (or clears) the field's message: wire to the input's onBlur. Not when focus goes to
     * the submit button: the message would push the button away under the pointer mid-click,
     * and the submit checks every field anyway.
     */
    blur: (field: K, event?: FocusEvent) => {
      const to = event?.relatedTarget;
      if (to instanceof HTMLButtonElement && to.type === 'submit') return;
      setShown((s) => ({ ...s, [field]: current[field] }));
    },
    /** Shows every message; true when the form may be sent. */
    submit: (): boolean => {
      setShown({ ...current });
      return !Object.values(current).some(Boolean);
    },
    /**
     * The start of a form's onSubmit: keeps the browser from sending it, shows every message,
     * and on a refusal focuses the first invalid field. True when the form may be sent.
     */
    accept: (event: Event): boolean => {
      event.preventDefault();
      setShown({ ...current });
      if (!Object.values(current).some(Boolean)) return true;
      focusFirstInvalid(event.currentTarget as HTMLFormElement);
      return false;
    },
  };
}

/** After a refused submit: focus the first field marked invalid once the errors have rendered. */
function focusFirstInvalid(form: HTMLFormElement): void {
  setTimeout(() => form.querySelector<HTMLElement>('[aria-invalid=true]')?.focus(), 0);
}
