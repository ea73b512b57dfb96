import { useState } from 'preact/hooks';
import { problemOf, type Principal, type Problem } from '../../api.js';
import { checkIpAllowlist, linesOf } from '../../validate.js';
import { Dialog, DialogActions } from '../dialog.js';
import { Field, ProblemAlert, fieldOfProblem } from '../form.js';
import { RoleChecks, useRoles } from '../roles-picker.js';
import { focusInvalid, nounOf, patchPrincipal, useChecked } from './common.js';
import { useFirstFieldFocus } from '../first-field.js';

interface EditProps {
  principal: Principal;
  onClose: () => void;
  onSaved: (updated: Principal, message: string) => void;
}

/** The server's limits on these fields (the route schema's), refused visibly rather than cut. */
const maxDisplayName = 200;
const maxEmail = 254;

/** Sends one PATCH; the server's refusal goes to the field its pointer names, else to the form. */
function useSave(props: EditProps, fields: Record<string, string>) {
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const at = fieldOfProblem(problem, fields);
  return {
    busy,
    clear: () => setProblem(undefined),
    serverError: (name: string) => (at === name ? problem?.detail : undefined),
    formProblem: problem && !at ? problem : undefined,
    async save(body: Record<string, unknown>, message: string, form: EventTarget | null) {
      setBusy(true);
      try {
        props.onSaved(await patchPrincipal(props.principal, body), message);
      } catch (error) {
        setProblem(problemOf(error));
        setBusy(false);
        focusInvalid(form);
      }
    },
  };
}

function Actions(props: { busy: boolean; onClose: () => void; label?: string }) {
  return (
    <DialogActions label={props.busy ? 'Saving…' : (props.label ?? 'Save')} busy={props.busy} onCancel={props.onClose} />
  );
}

/** Display name and email. */
export function EditDetailsDialog(props: EditProps) {
  const firstField = useFirstFieldFocus();
  const p = props.principal;
  const [displayName, setDisplayName] = useState(p.display_name);
  const [email, setEmail] = useState(p.email ?? '');
  const checked = useChecked();
  const save = useSave(props, { '/display_name': 'display_name', '/email': 'email' });
  const name = displayName.trim();
  const mail = email.trim();
  const inline = {
    display_name:
      name === '' ? 'Enter a display name (the username is shown when it is the same)' : name.length > maxDisplayName ? `A display name has at most ${maxDisplayName} characters; this one has ${name.length}` : undefined,
    email:
      mail === ''
        ? undefined
        : mail.length > maxEmail
          ? `An email address has at most ${maxEmail} characters; this one has ${mail.length}`
          : /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(mail)
            ? undefined
            : `Email “${mail}” is not an email address: write it as name@example.com, or leave it empty`,
  };
  const error = (field: keyof typeof inline) => (checked.shown(field) ? inline[field] : undefined) ?? save.serverError(field);

  function submit(event: Event) {
    event.preventDefault();
    checked.submit();
    if (Object.values(inline).some(Boolean)) return focusInvalid(event.currentTarget);
    const body: Record<string, unknown> = {};
    if (name !== p.display_name) body['display_name'] = name;
    if ((mail || null) !== p.email) body['email'] = mail || null;
    if (Object.keys(body).length === 0) return props.onClose();
    void save.save(body, 'Details saved.', event.currentTarget);
  }

  return (
    <Dialog title={`Edit ${nounOf(p.kind)} details`} onClose={props.onClose} testId="edit-details-dialog">
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={save.formProblem} testId="dialog-problem" />
        <Field label="Display name" error={error('display_name')} hint={`At most ${maxDisplayName} characters.`}>
          {(attrs) => (
            <input
              {...attrs}
              value={displayName}
              onInput={(e) => {
                setDisplayName(e.currentTarget.value);
                save.clear();
              }}
              onBlur={() => checked.blur('display_name')}
            />
          )}
        </Field>
        <Field label="Email" error={error('email')} hint="Optional.">
          {(attrs) => (
            <input
              {...attrs}
              type="email"
              autocomplete="off"
              value={email}
              onInput={(e) => {
                setEmail(e.currentTarget.value);
                save.clear();
              }}
              onBlur={() => checked.blur('email')}
            />
          )}
        </Field>
        <Actions busy={save.busy} onClose={props.onClose} />
      </form>
    </Dialog>
  );
}

/** The principal's roles; the server refuses a role with rights the caller lacks. */
export function EditRolesDialog(props: EditProps) {
  const available = useRoles();
  // The checkboxes come with the roles: focus the first once they are there.
  const firstField = useFirstFieldFocus(available.data !== undefined || available.problem !== undefined);
  const p = props.principal;
  const [roles, setRoles] = useState<string[]>([...p.roles]);
  const save = useSave(props, { '/roles': 'roles' });

  function submit(event: Event) {
    event.preventDefault();
    void save.save({ roles }, 'Roles saved.', event.currentTarget);
  }

  return (
    <Dialog title={`Edit roles of ${p.username}`} onClose={props.onClose} testId="edit-roles-dialog">
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={save.formProblem} testId="dialog-problem" />
        <RoleChecks
          legend="Roles"
          roles={(available.data ?? []).map((role) => ({ name: role.name, title: role.rights.join(', ') }))}
          chosen={roles}
          onChange={(next) => {
            setRoles(next);
            save.clear();
          }}
          error={save.serverError('roles')}
          loadError={available.problem?.detail}
        />
        {roles.length === 0 && <p class="hint">With no role, {p.username} holds no right: its tokens can do nothing.</p>}
        <Actions busy={save.busy} onClose={props.onClose} />
      </form>
    </Dialog>
  );
}

/**
 * The "Edit IP allowlist" dialog of the seeds: the addresses a principal's requests may come
 * from, each line an IPv4 or IPv6 address, a CIDR or a range; empty allows any address.
 */
export function EditIpAllowlistDialog(props: EditProps) {
  const firstField = useFirstFieldFocus();
  const p = props.principal;
  const [text, setText] = useState(p.ip_allowlist.join('\n'));
  const checked = useChecked();
  const save = useSave(props, { '/ip_allowlist': 'ips' });
  const inline = checkIpAllowlist(text);
  const error = (checked.shown('ips') ? inline : undefined) ?? save.serverError('ips');

  function submit(event: Event) {
    event.preventDefault();
    checked.submit();
    if (inline) return focusInvalid(event.currentTarget);
    void save.save({ ip_allowlist: linesOf(text) }, 'IP allowlist saved.', event.currentTarget);
  }

  return (
    <Dialog title="Edit IP allowlist" onClose={props.onClose} testId="edit-ip-allowlist-dialog" wide>
      <form onSubmit={submit} noValidate ref={firstField}>
        <ProblemAlert problem={save.formProblem} testId="dialog-problem" />
        <p>Requests of {p.username}, with any of its tokens, are accepted only from these addresses.</p>
        <Field
          label="IP addresses or ranges"
          error={error}
          hint={
            <>
              One per line, IPv4 or IPv6: an address (<code>10.0.0.1</code>, <code>2001:0db8:85a3:0000:0000:8a2e:0370:7334</code>), a CIDR range (<code>1.1.1.0/24</code>,{' '}
              <code>2001:0db8:85a3::/64</code>) or a range (<code>1.1.1.0 - 1.1.1.25</code>, <code>2001:db8::1 - 2001:db8::ffff</code>). Empty: any address.
            </>
          }
        >
          {(attrs) => (
            <textarea
              {...attrs}
              rows={5}
              spellcheck={false}
              value={text}
              onInput={(e) => {
                setText(e.currentTarget.value);
                save.clear();
              }}
              onBlur={() => text.trim() !== '' && checked.blur('ips')}
            />
          )}
        </Field>
        <Actions busy={save.busy} onClose={props.onClose} />
      </form>
    </Dialog>
  );
}
