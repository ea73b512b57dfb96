import { useEffect, useState } from 'preact/hooks';
import { api, query, type AuditEvent, type Token } from '../api.js';
import { formatDateTime } from '../format.js';
import { href, onLinkClick } from '../router.js';
import { PrincipalLink, findPrincipal } from './principal-link.js';

/**
 * Names for the ids an audit page shows. The audit API gives ids only; each distinct id is
 * looked up once (a page has a handful of actors) and remembered for the session. An id the
 * caller may not read, or that was deleted, stays shown as the id.
 */
const known = new Map<string, Promise<string | undefined>>();

function lookup(kind: 'principal' | 'token', id: string): Promise<string | undefined> {
  const key = `${kind}:${id}`;
  let found = known.get(key);
  if (!found) {
    found =
      kind === 'principal'
        ? findPrincipal(id).then((p) => p?.username, () => undefined)
        : api.get<Token>(`/tokens/${encodeURIComponent(id)}`).then((t) => `${t.name} (${t.owner})`, () => undefined);
    known.set(key, found);
  }
  return found;
}

/** The names of the principals and tokens the events name, filled in as they arrive. */
export function useAuditNames(events: readonly AuditEvent[] | undefined): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const ids = new Set<string>();
  for (const event of events ?? []) {
    if (event.actor_principal_id) ids.add(`principal:${event.actor_principal_id}`);
    if (event.actor_token_id) ids.add(`token:${event.actor_token_id}`);
    if (event.target_id && event.target_type === 'principal') ids.add(`principal:${event.target_id}`);
    if (event.target_id && event.target_type === 'token') ids.add(`token:${event.target_id}`);
  }
  const key = [...ids].sort().join(',');
  useEffect(() => {
    let live = true;
    void Promise.all(
      [...ids].map(async (entry) => {
        const [kind, id] = entry.split(/:(.*)/s) as ['principal' | 'token', string];
        return [entry, await lookup(kind, id)] as const;
      }),
    ).then((pairs) => {
      if (live) setNames(new Map(pairs.filter((pair): pair is readonly [string, string] => pair[1] !== undefined)));
    });
    return () => {
      live = false;
    };
  }, [key]);
  return names;
}

/** A principal by name, linked to its page; the id as a fallback and as the title. */
export function PrincipalName(props: { id: string; names: ReadonlyMap<string, string> }) {
  const name = props.names.get(`principal:${props.id}`);
  return (
    <span title={props.id}>
      <PrincipalLink id={props.id}>{name ?? props.id}</PrincipalLink>
    </span>
  );
}

/** A token by name, linked to the API tokens page searching for it. */
export function TokenName(props: { id: string; names: ReadonlyMap<string, string> }) {
  const name = props.names.get(`token:${props.id}`);
  if (!name) return <code title="token id">{props.id}</code>;
  const to = `/security/api-tokens${query({ q: name.replace(/ \(.*\)$/, '') })}`;
  return (
    <a href={href(to)} onClick={(event) => onLinkClick(event, to)} title={props.id}>
      {name}
    </a>
  );
}

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A detail value in words: none, a list, a date, or the value as text. */
function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'none';
  if (Array.isArray(value)) return value.length ? value.map(valueText).join(', ') : 'none';
  if (typeof value === 'string') return isoInstant.test(value) ? formatDateTime(value) : value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const words = (key: string) => key.replace(/_/g, ' ');

/** An event's details as lines: "name: ci → ci-2" for each change, "reason: leaked" for the rest. */
export function detailLines(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(details)) {
    if (key === 'changes' && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [field, change] of Object.entries(value as Record<string, unknown>)) {
        const { from, to } = (change ?? {}) as { from?: unknown; to?: unknown };
        lines.push(`${words(field)}: ${valueText(from)} → ${valueText(to)}`);
      }
    } else {
      lines.push(`${words(key)}: ${valueText(value)}`);
    }
  }
  return lines;
}

export function DetailsSummary(props: { details: Record<string, unknown> }) {
  const lines = detailLines(props.details);
  if (lines.length === 0) return null;
  return (
    <ul class="changes" data-testid="audit-details">
      {lines.map((line, index) => (
        <li key={index}>{line}</li>
      ))}
    </ul>
  );
}
