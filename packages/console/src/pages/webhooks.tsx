import { useState } from 'preact/hooks';
import { api, problemOf, query, webhookEvents, type Page, type Problem, type WebhookDelivery, type WebhookEndpoint } from '../api.js';
import { DeleteConfirm } from '../components/action-confirm.js';
import { Dialog } from '../components/dialog.js';
import { Field, ProblemAlert, fieldOfProblem, useBlurChecks } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { ActionMenu } from '../components/menu.js';
import { OneTimeDialog } from '../components/one-time-dialog.js';
import { Pager } from '../components/pager.js';
import { saveResource, useListPage } from '../components/use-list-page.js';
import { formatDateTime } from '../format.js';
import { useLoad } from '../use-load.js';
import { checkLength } from '../validate.js';

type CreatedEndpoint = WebhookEndpoint & { secret: string };

/** Add or edit an endpoint: its URL, the events it receives, a description. */
function EndpointDialog(props: { endpoint?: WebhookEndpoint; onClose: () => void; onSaved: (created?: CreatedEndpoint) => void }) {
  const editing = props.endpoint;
  const [form, setForm] = useState({ url: editing?.url ?? '', description: editing?.description ?? '', events: editing?.events ?? ['token.revoked', 'token.leaked', 'token.expiring'] });
  const [problem, setProblem] = useState<Problem>();
  const set = (patch: Partial<typeof form>) => {
    setForm((f) => ({ ...f, ...patch }));
    setProblem(undefined);
  };
  const at = fieldOfProblem(problem, { '/url': 'url', '/description': 'description', '/events': 'events' });
  const checks = useBlurChecks({ url: checkLength(form.url, 2000, 'A URL'), description: checkLength(form.description, 1000, 'A description') });
  return (
    <Dialog title={editing ? 'Edit webhook endpoint' : 'Add webhook endpoint'} onClose={props.onClose} wide>
      <form
        noValidate
        onSubmit={async (event) => {
          if (!checks.accept(event)) return;
          const body = { url: form.url.trim(), description: form.description, events: form.events };
          try {
            props.onSaved(await saveResource<CreatedEndpoint>('/webhooks', editing?.id, body));
          } catch (error) {
            setProblem(problemOf(error));
          }
        }}
      >
        {problem && !at && <ProblemAlert problem={problem} />}
        <Field label="URL" error={checks.errors.url ?? (at === 'url' ? problem?.detail : undefined)} hint="Where Tessera POSTs signed events (Standard Webhooks), e.g. https://hooks.example.com/tessera.">
          {(attrs) => <input {...attrs} required type="url" value={form.url} onInput={(e) => set({ url: e.currentTarget.value })} onBlur={(e) => checks.blur('url', e)} />}
        </Field>
        <fieldset class="field">
          <legend>Events</legend>
          {webhookEvents.map((name) => (
            <label class="check" key={name}>
              <input
                type="checkbox"
                checked={form.events.includes(name)}
                onChange={(e) => set({ events: e.currentTarget.checked ? [...form.events, name] : form.events.filter((x) => x !== name) })}
              />{' '}
              <code>{name}</code>
            </label>
          ))}
          {at === 'events' && (
            <p class="field-error" role="alert">
              {problem?.detail}
            </p>
          )}
        </fieldset>
        <Field label="Description" error={checks.errors.description ?? (at === 'description' ? problem?.detail : undefined)} count={{ length: form.description.trim().length, max: 1000 }}>
          {(attrs) => <textarea {...attrs} rows={2} value={form.description} onInput={(e) => set({ description: e.currentTarget.value })} onBlur={(e) => checks.blur('description', e)} />}
        </Field>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            {editing ? 'Save' : 'Add endpoint'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const statusLabel: Record<WebhookDelivery['status'], string> = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed', cancelled: 'Cancelled' };

/** An endpoint's delivery log: each message with its attempts and outcome, and redelivery. */
function DeliveriesDialog(props: { endpoint: WebhookEndpoint; onClose: () => void }) {
  const [round, setRound] = useState(0);
  const [problem, setProblem] = useState<Problem>();
  const [announce, setAnnounce] = useState('');
  const list = useLoad(() => api.get<Page<WebhookDelivery>>(`/webhooks/${encodeURIComponent(props.endpoint.id)}/deliveries${query({ limit: 50 })}`), String(round));
  return (
    <Dialog title={`Deliveries to ${props.endpoint.url}`} onClose={props.onClose} wide testId="deliveries">
      <ProblemAlert problem={list.problem ?? problem} />
      <p class="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      {list.data && list.data.items.length === 0 && <p class="empty">Nothing sent yet: deliveries appear here when a subscribed event happens.</p>}
      {list.data && list.data.items.length > 0 && (
        <ListTable
          region="Deliveries"
          head={
            <>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Webhook id</th>
            </>
          }
        >
          {list.data.items.map((delivery) => (
            <tr key={delivery.id} data-testid="delivery">
              <td>
                <code>{delivery.event_type}</code>
                <div class="muted">{formatDateTime(delivery.created_at)}</div>
              </td>
              <td>
                <span class={`badge ${delivery.status === 'delivered' ? 'status-active' : delivery.status === 'failed' ? 'status-revoked' : ''}`}>{statusLabel[delivery.status]}</span>
                {delivery.status === 'pending' && delivery.next_attempt_at && <div class="muted">next try {formatDateTime(delivery.next_attempt_at)}</div>}
              </td>
              <td>{delivery.attempts}</td>
              <td>{delivery.last_status_code ?? delivery.last_error ?? '—'}</td>
              <td>
                <code>{delivery.id}</code>
              </td>
              <td>
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      await api.post(`/webhooks/${encodeURIComponent(props.endpoint.id)}/deliveries/${encodeURIComponent(delivery.id)}/redeliver`);
                      setAnnounce(`${delivery.event_type} queued for redelivery`);
                      setRound((r) => r + 1);
                    } catch (error) {
                      setProblem(problemOf(error));
                    }
                  }}
                >
                  Redeliver
                </button>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
      <div class="actions">
        <button type="button" onClick={() => setRound((r) => r + 1)}>
          Refresh
        </button>
        <button type="button" class="primary" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

/** Security → Webhooks: endpoints receiving signed token events; secrets are shown once. */
export function WebhooksPage() {
  const { pages, list, open, setOpen, done } = useListPage<WebhookEndpoint, { kind: 'add' } | { kind: 'edit' | 'delete' | 'deliveries'; endpoint: WebhookEndpoint } | { kind: 'secret'; endpoint: CreatedEndpoint }>('/webhooks');
  const [problem, setProblem] = useState<Problem>();
  const toggle = async (endpoint: WebhookEndpoint) => {
    try {
      await api.patch(`/webhooks/${encodeURIComponent(endpoint.id)}`, { enabled: !endpoint.enabled });
      done(endpoint.enabled ? 'Webhook endpoint paused' : 'Webhook endpoint resumed');
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  return (
    <>
      <div class="section-header">
        <h1>Webhooks</h1>
        <button type="button" class="primary" onClick={() => setOpen({ kind: 'add' })}>
          Add endpoint
        </button>
      </div>
      <p class="muted">Token events, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), delivered at least once and retried for 24 hours.</p>
      <ProblemAlert problem={list.problem ?? problem} />
      {list.data && list.data.items.length === 0 && (
        <div class="empty">
          <p>No endpoints yet. Use “Add endpoint” to be told when tokens are created, revoked, leaked or about to expire.</p>
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        <ListTable
          region="Webhook endpoints"
          head={
            <>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">Added</th>
            </>
          }
        >
          {list.data.items.map((endpoint) => (
            <tr key={endpoint.id} data-testid="webhook-row">
              <td>
                <code>{endpoint.url}</code>
                {endpoint.description && <div class="muted">{endpoint.description}</div>}
              </td>
              <td>{endpoint.events.join(', ')}</td>
              <td>
                <span class={`badge ${endpoint.enabled ? 'status-active' : 'status-idle'}`}>{endpoint.enabled ? 'Enabled' : 'Paused'}</span>
              </td>
              <td>{formatDateTime(endpoint.created_at)}</td>
              <td>
                <ActionMenu
                  label={`Actions for ${endpoint.url}`}
                  items={[
                    { label: 'Deliveries', onSelect: () => setOpen({ kind: 'deliveries', endpoint }) },
                    { label: 'Edit', onSelect: () => setOpen({ kind: 'edit', endpoint }) },
                    { label: endpoint.enabled ? 'Pause' : 'Resume', onSelect: () => void toggle(endpoint) },
                    { label: 'Delete', onSelect: () => setOpen({ kind: 'delete', endpoint }), danger: true },
                  ]}
                />
              </td>
            </tr>
          ))}
        </ListTable>
      )}
      <Pager label="Webhook endpoints" page={pages.page} nextCursor={list.data?.next_cursor} onNext={pages.next} onPrevious={pages.previous} />
      {open?.kind === 'add' && <EndpointDialog onClose={() => setOpen(undefined)} onSaved={(created) => (created ? setOpen({ kind: 'secret', endpoint: created }) : done())} />}
      {open?.kind === 'edit' && <EndpointDialog endpoint={open.endpoint} onClose={() => setOpen(undefined)} onSaved={() => done('Webhook endpoint saved')} />}
      {open?.kind === 'deliveries' && <DeliveriesDialog endpoint={open.endpoint} onClose={() => setOpen(undefined)} />}
      {open?.kind === 'secret' && (
        <OneTimeDialog title="Signing secret of the new endpoint" secrets={[{ label: 'Signing secret', value: open.endpoint.secret, testId: 'webhook-secret' }]} onClose={() => done('Webhook endpoint added')} />
      )}
      {open?.kind === 'delete' && (
        <DeleteConfirm
          title={`Delete the endpoint ${open.endpoint.url}?`}
          message="It receives nothing more; deliveries not yet made are cancelled."
          confirmLabel="Delete endpoint"
          path={`/webhooks/${encodeURIComponent(open.endpoint.id)}`}
          onClose={() => setOpen(undefined)}
          onDeleted={() => done('Webhook endpoint deleted')}
        />
      )}
    </>
  );
}
