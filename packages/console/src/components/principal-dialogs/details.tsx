import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Principal } from '../../api.js';
import { formatDateTime } from '../../format.js';
import { DeletePrincipalDialog, ResetPasswordDialog, ResetSecondFactorDialog, StatusDialog } from './account-dialogs.js';
import { nounOf } from './common.js';
import { EditDetailsDialog, EditIpAllowlistDialog, EditRolesDialog } from './edit-dialogs.js';

type Open = 'details' | 'roles' | 'ips' | 'status' | 'password' | 'second-factor' | 'delete' | undefined;

/** A section of the Details tab: a heading, what is set, and its Edit button for a manager. */
function Section(props: { id: string; title: string; action?: { label: string; hidden?: string; danger?: boolean; onClick: () => void } | false; children: ComponentChildren }) {
  return (
    <section aria-labelledby={props.id} class="principal-section">
      <div class="section-header">
        <h2 id={props.id}>{props.title}</h2>
        {props.action && (
          <button type="button" class={props.action.danger ? 'danger' : undefined} onClick={props.action.onClick}>
            {props.action.label}
            {props.action.hidden && <span class="visually-hidden"> {props.action.hidden}</span>}
          </button>
        )}
      </div>
      {props.children}
    </section>
  );
}

/**
 * The Details tab of a user or service account: each part with its own edit (details, roles,
 * the seeds' "IP allowlist section" with its Edit, status), a user's password and two-factor
 * reset, and delete. The server checks every change and audits it; the page only offers them
 * to a caller with users.manage.
 */
export function PrincipalDetails(props: { principal: Principal; self: boolean; canManage: boolean; onChanged: () => void; onDeleted: () => void }) {
  const p = props.principal;
  const [open, setOpen] = useState<Open>();
  const [notice, setNotice] = useState('');
  const manage = props.canManage;
  const isUser = p.kind === 'user';
  const saved = (message: string) => {
    setOpen(undefined);
    setNotice(message);
    props.onChanged();
  };
  const onSaved = (_updated: Principal, message: string) => saved(message);
  const close = () => setOpen(undefined);
  const show = (what: Open) => () => {
    setNotice('');
    setOpen(what);
  };

  return (
    <>
      <p class={notice ? 'success' : undefined} role="status" data-testid="principal-notice">
        {notice}
      </p>
      <Section id="general-heading" title="General" action={manage && { label: 'Edit details', onClick: show('details') }}>
        <dl class="details">
          <dt>Username</dt>
          <dd>{p.username}</dd>
          <dt>Display name</dt>
          <dd>{p.display_name || '—'}</dd>
          <dt>Email</dt>
          <dd>{p.email ?? '—'}</dd>
          <dt>Id</dt>
          <dd>
            <code>{p.id}</code>
          </dd>
          <dt>Created</dt>
          <dd>{formatDateTime(p.created_at)}</dd>
          {isUser && (
            <>
              <dt>Password changed</dt>
              <dd>{formatDateTime(p.password_changed_at)}</dd>
            </>
          )}
        </dl>
      </Section>
      <Section id="status-heading" title="Status" action={manage && !props.self && { label: p.status === 'active' ? 'Disable' : 'Enable', hidden: p.username, danger: p.status === 'active', onClick: show('status') }}>
        <p>
          <span class={`badge status-${p.status}`}>{p.status}</span>{' '}
          {p.status === 'active' ? `The ${nounOf(p.kind)} can log in and use its tokens.` : 'Its sessions have ended and every one of its tokens is refused until it is enabled.'}
        </p>
      </Section>
      <Section id="roles-heading" title="Roles" action={manage && { label: 'Edit roles', onClick: show('roles') }}>
        <p>{p.roles.length ? p.roles.join(', ') : 'No role: no right.'}</p>
      </Section>
      <Section id="ip-allowlist-heading" title="IP allowlist" action={manage && { label: 'Edit', hidden: 'IP allowlist', onClick: show('ips') }}>
        {p.ip_allowlist.length ? (
          <ul data-testid="principal-ip-allowlist">
            {p.ip_allowlist.map((entry) => (
              <li key={entry}>
                <code>{entry}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p data-testid="principal-ip-allowlist">Any address.</p>
        )}
      </Section>
      {isUser && manage && (
        <Section id="login-heading" title="Login">
          <div class="actions">
            <button type="button" onClick={show('password')}>
              Reset password
            </button>
            <button type="button" onClick={show('second-factor')}>
              Reset two-factor login
            </button>
          </div>
        </Section>
      )}
      {manage && !props.self && (
        <Section id="delete-heading" title={`Delete ${nounOf(p.kind)}`} action={{ label: `Delete ${nounOf(p.kind)}`, hidden: p.username, danger: true, onClick: show('delete') }}>
          <p class="hint">Its tokens stop working at once. This cannot be undone.</p>
        </Section>
      )}
      {open === 'details' && <EditDetailsDialog principal={p} onClose={close} onSaved={onSaved} />}
      {open === 'roles' && <EditRolesDialog principal={p} onClose={close} onSaved={onSaved} />}
      {open === 'ips' && <EditIpAllowlistDialog principal={p} onClose={close} onSaved={onSaved} />}
      {open === 'status' && <StatusDialog principal={p} onClose={close} onSaved={onSaved} />}
      {open === 'password' && <ResetPasswordDialog principal={p} onClose={close} onSaved={onSaved} />}
      {open === 'second-factor' && <ResetSecondFactorDialog principal={p} onClose={close} onDone={saved} />}
      {open === 'delete' && <DeletePrincipalDialog principal={p} onClose={close} onDeleted={props.onDeleted} />}
    </>
  );
}
