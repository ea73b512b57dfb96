import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
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
  children: (attrs: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: 'true' }) => ComponentChildren;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [props.hint ? hintId : '', props.error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.children({ id, ...(described && { 'aria-describedby': described }), ...(props.error && { 'aria-invalid': 'true' as const }) })}
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
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
