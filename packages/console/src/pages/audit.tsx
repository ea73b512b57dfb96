import { useState } from 'preact/hooks';
import { api, query, type AuditEvent, type Page } from '../api.js';
import { DetailsSummary, PrincipalName, TokenName, useAuditNames } from '../components/audit-names.js';
import { ProblemAlert } from '../components/form.js';
import { Pager, useCursorPages } from '../components/pager.js';
import { formatDateTime } from '../format.js';
import { navigate } from '../router.js';
import { useLoad } from '../use-load.js';

const keys = ['action', 'actor', 'target', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof keys)[number], string>>;

/** datetime-local text (local time) ↔ the API's ISO instants. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : '');
const toLocal = (iso: string | undefined) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** Security → Audit log: filters, keyset pages, JSON Lines export of the same filters. */
export function AuditPage(props: { search: URLSearchParams }) {
  const filters: Filters = {};
  for (const key of keys) {
    const value = props.search.get(key);
    if (value) filters[key] = value;
  }
  const filterKey = JSON.stringify(filters);
  const pages = useCursorPages(filterKey);
  const [draft, setDraft] = useState<{ key: string; values: Filters }>({ key: filterKey, values: filters });
  const values = draft.key === filterKey ? draft.values : filters;
  if (draft.key !== filterKey) setDraft({ key: filterKey, values: filters });
  const setValue = (patch: Filters) => setDraft({ key: filterKey, values: { ...values, ...patch } });
  const list = useLoad(() => api.get<Page<AuditEvent>>(`/audit-events${query({ ...filters, cursor: pages.cursor, limit: 50 })}`), `${filterKey}|${pages.cursor ?? ''}`);
  const names = useAuditNames(list.data?.items);

  return (
    <>
      <div class="section-header">
        <h1>Audit log</h1>
        <a class="button" href={`/api/v1/audit-events/export${query(filters)}`} download="audit-events.jsonl">
          Export (JSON Lines)
        </a>
      </div>
      <form
        class="toolbar"
        role="search"
        aria-label="Filter audit events"
        onSubmit={(event) => {
          event.preventDefault();
          const next: Filters = {};
          for (const key of keys) if (values[key]?.trim()) next[key] = values[key]?.trim();
          navigate(`/security/audit${query(next)}`);
        }}
      >
        <label>
          Action
          <input value={values.action ?? ''} placeholder="token.* or token.create" onInput={(e) => setValue({ action: e.currentTarget.value })} />
        </label>
        <label>
          Actor id
          <input value={values.actor ?? ''} onInput={(e) => setValue({ actor: e.currentTarget.value })} />
        </label>
        <label>
          Target id
          <input value={values.target ?? ''} onInput={(e) => setValue({ target: e.currentTarget.value })} />
        </label>
        <label>
          Since
          <input type="datetime-local" value={toLocal(values.since)} onChange={(e) => setValue({ since: toIso(e.currentTarget.value) })} />
        </label>
        <label>
          Until
          <input type="datetime-local" value={toLocal(values.until)} onChange={(e) => setValue({ until: toIso(e.currentTarget.value) })} />
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
        {Object.keys(filters).length > 0 && (
          <button type="button" onClick={() => navigate('/security/audit')}>
            Clear
          </button>
        )}
      </form>
      <ProblemAlert problem={list.problem} />
      {list.data && list.data.items.length === 0 && (
        <div class="empty">
          <p>{Object.keys(filters).length ? 'No event matches these filters. Widen the time range or clear the filters.' : 'The audit log is empty.'}</p>
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        // Wider than a phone: the region scrolls sideways, so it takes focus for keyboard users.
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit events">
          <table data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Address</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((event) => (
                <tr key={event.id}>
                  <td>{formatDateTime(event.occurred_at)}</td>
                  <td>
                    <code>{event.action}</code>
                  </td>
                  <td>{event.outcome}</td>
                  <td>
                    {event.actor_principal_id ? <PrincipalName id={event.actor_principal_id} names={names} /> : '—'}
                    {event.actor_token_id && (
                      <div class="muted">
                        via <TokenName id={event.actor_token_id} names={names} />
                      </div>
                    )}
                  </td>
                  <td>
                    {!event.target_type ? (
                      '—'
                    ) : event.target_id && event.target_type === 'principal' ? (
                      <PrincipalName id={event.target_id} names={names} />
                    ) : event.target_id && event.target_type === 'token' ? (
                      <>
                        <span class="muted">token</span> <TokenName id={event.target_id} names={names} />
                      </>
                    ) : (
                      <>
                        <span class="muted">{event.target_type.replace(/_/g, ' ')}</span> {event.target_id && <code>{event.target_id}</code>}
                      </>
                    )}
                  </td>
                  <td>{event.client_ip ?? '—'}</td>
                  <td>
                    <DetailsSummary details={event.details} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Audit events" page={pages.page} nextCursor={list.data?.next_cursor} onNext={pages.next} onPrevious={pages.previous} />
    </>
  );
}
