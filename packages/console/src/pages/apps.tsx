import { useState } from 'preact/hooks';
import { api, problemOf, type App, type Problem } from '../api.js';
import { ActionConfirm, DeleteConfirm } from '../components/action-confirm.js';
import { Dialog } from '../components/dialog.js';
import { Field, ProblemAlert, fieldOfProblem, useBlurChecks } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { ActionMenu } from '../components/menu.js';
import { OneTimeDialog } from '../components/one-time-dialog.js';
import { Pager } from '../components/pager.js';
import { saveResource, useListPage } from '../components/use-list-page.js';
import { RolesPicker } from '../components/roles-picker.js';
import { formatDateTime, formatSeconds } from '../format.js';
import { checkLength } from '../validate.js';

type AppWithSecret = App & { client_secret: string };

/** The server's limits (the route schema's maxLength). */
const maxName = 100;
const maxDescription = 1000;

/** Create or edit an app: name, description, roles, access-token TTL, introspection. */
function AppDialog(props: { app?: App; onClose: () => void; onSaved: (created?: AppWithSecret) => void }) {
  const editing = props.app;
  const [form, setForm] = useState({
    name: editing?.name ?? '',
    description: editing?.description ?? '',
    roles: editing?.roles ?? [],
    ttl: editing?.access_token_ttl_seconds?.toString() ?? '',
    can_introspect: editing?.can_introspect ?? false,
  });
  const [problem, setProblem] = useState<Problem>();
  const set = (patch: Partial<typeof form>) => {
    setForm((f) => ({ ...f, ...patch }));
    setProblem(undefined);
  };
  const ttlNumber = form.ttl.trim() === '' ? null : Number(form.ttl);
  const ttlError = ttlNumber !== null && (!Number.isInteger(ttlNumber) || ttlNumber < 60 || ttlNumber > 2592000) ? 'The access-token lifetime is a whole number of seconds from 60 to 2592000 (30 days); leave it empty to use the policy' : undefined;
  const checks = useBlurChecks({ name: checkLength(form.name, maxName), description: checkLength(form.description, maxDescription, 'A description'), ttl: ttlError });
  const at = fieldOfProblem(problem, { '/name': 'name', '/description': 'description', '/roles': 'roles', '/access_token_ttl_seconds': 'ttl' });
  return (
    <Dialog title={editing ? `Edit app ${editing.name}` : 'Add app'} onClose={props.onClose} wide>
      <form
        noValidate
        onSubmit={async (event) => {
          if (!checks.accept(event)) return;
          const body = { name: form.name.trim(), description: form.description, roles: form.roles, access_token_ttl_seconds: ttlNumber, can_introspect: form.can_introspect };
          try {
            props.onSaved(await saveResource<AppWithSecret>('/apps', editing?.id, body));
          } catch (error) {
            setProblem(problemOf(error));
          }
        }}
      >
        {problem && !at && <ProblemAlert problem={problem} />}
        <Field label="Name" error={checks.errors.name ?? (at === 'name' ? problem?.detail : undefined)} count={{ length: form.name.trim().length, max: maxName }}>
          {(attrs) => <input {...attrs} required value={form.name} onInput={(e) => set({ name: e.currentTarget.value })} onBlur={(e) => checks.blur('name', e)} />}
        </Field>
        <Field label="Description" error={checks.errors.description ?? (at === 'description' ? problem?.detail : undefined)} count={{ length: form.description.trim().length, max: maxDescription }}>
          {(attrs) => <textarea {...attrs} rows={2} value={form.description} onInput={(e) => set({ description: e.currentTarget.value })} onBlur={(e) => checks.blur('description', e)} />}
        </Field>
        <RolesPicker legend="Roles (what its access tokens may do)" chosen={form.roles} onChange={(roles) => set({ roles })} error={at === 'roles' ? problem?.detail : undefined} />
        <Field label="Access-token lifetime (seconds)" error={checks.errors.ttl ?? (at === 'ttl' ? problem?.detail : undefined)} hint="60 to 2592000 (30 days); empty: the organization policy.">
          {(attrs) => <input {...attrs} inputMode="numeric" value={form.ttl} onInput={(e) => set({ ttl: e.currentTarget.value })} onBlur={(e) => checks.blur('ttl', e)} />}
        </Field>
        <label class="check">
          <input type="checkbox" checked={form.can_introspect} onChange={(e) => set({ can_introspect: e.currentTarget.checked })} /> May call token introspection (RFC 7662)
        </label>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            {editing ? 'Save' : 'Create app'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Security → Apps: OAuth clients for client_credentials; secrets are shown once. */
export function AppsPage() {
  const { pages, list, open, setOpen, done } = useListPage<App, { kind: 'add' } | { kind: 'edit' | 'regenerate' | 'delete'; app: App } | { kind: 'secret'; app: AppWithSecret }>('/apps');
  return (
    <>
      <div class="section-header">
        <h1>Apps</h1>
        <button type="button" class="primary" onClick={() => setOpen({ kind: 'add' })}>
          Add app
        </button>
      </div>
      <p class="muted">Server-to-server clients: they get access tokens at /oauth/token with grant_type=client_credentials.</p>
      <ProblemAlert problem={list.problem} />
      {list.data && list.data.items.length === 0 && (
        <div class="empty">
          <p>No apps yet. Use “Add app” to register a service that calls your API on its own behalf.</p>
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        <ListTable
          head={
            <>
              <th scope="col">Name</th>
              <th scope="col">Client id</th>
              <th scope="col">Roles</th>
              <th scope="col">Access-token lifetime</th>
              <th scope="col">Secret set</th>
            </>
          }
        >
          {list.data.items.map((app) => (
            <tr key={app.id}>
              <td>
                <strong>{app.name}</strong>
                {app.description && <div class="muted">{app.description}</div>}
              </td>
              <td>
                <code>{app.client_id}</code>
              </td>
              <td>{app.roles.join(', ') || 'none'}</td>
              <td>{app.access_token_ttl_seconds === null ? 'policy' : formatSeconds(app.access_token_ttl_seconds)}</td>
              <td>{formatDateTime(app.secret_rotated_at)}</td>
              <td>
                <ActionMenu
                  label={`Actions for ${app.name}`}
                  items={[
                    { label: 'Edit', onSelect: () => setOpen({ kind: 'edit', app }) },
                    { label: 'Regenerate secret', onSelect: () => setOpen({ kind: 'regenerate', app }) },
                    { label: 'Delete', onSelect: () => setOpen({ kind: 'delete', app }), danger: true },
                  ]}
                />
              </td>
            </tr>
          ))}
        </ListTable>
      )}
      <Pager label="Apps" page={pages.page} nextCursor={list.data?.next_cursor} onNext={pages.next} onPrevious={pages.previous} />
      {open?.kind === 'add' && <AppDialog onClose={() => setOpen(undefined)} onSaved={(created) => (created ? setOpen({ kind: 'secret', app: created }) : done())} />}
      {open?.kind === 'edit' && <AppDialog app={open.app} onClose={() => setOpen(undefined)} onSaved={() => done('App saved')} />}
      {open?.kind === 'secret' && (
        <OneTimeDialog
          title={`Client secret of ${open.app.name}`}
          secrets={[
            { label: 'Client id', value: open.app.client_id, testId: 'client-id' },
            { label: 'Client secret', value: open.app.client_secret, testId: 'client-secret' },
          ]}
          onClose={() => done('Client secret stored')}
        />
      )}
      {open?.kind === 'regenerate' && (
        <ActionConfirm
          title={`Regenerate the secret of ${open.app.name}?`}
          message="The current secret stops working at once; the app needs the new one."
          confirmLabel="Regenerate secret"
          onClose={() => setOpen(undefined)}
          action={async () => setOpen({ kind: 'secret', app: await api.post<AppWithSecret>(`/apps/${encodeURIComponent(open.app.id)}/secret`) })}
        />
      )}
      {open?.kind === 'delete' && (
        <DeleteConfirm
          title={`Delete ${open.app.name}?`}
          message="Its access tokens stop working when they expire, and it cannot get new ones."
          confirmLabel="Delete app"
          path={`/apps/${encodeURIComponent(open.app.id)}`}
          onClose={() => setOpen(undefined)}
          onDeleted={() => done('App deleted')}
        />
      )}
    </>
  );
}
