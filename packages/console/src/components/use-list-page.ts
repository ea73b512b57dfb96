import { useState } from 'preact/hooks';
import { api, query, type Page } from '../api.js';
import { useLoad } from '../use-load.js';
import { announce } from './announce.js';
import { useCursorPages } from './pager.js';

/**
 * A page listing one kind of resource (apps, webhook endpoints) in keyset pages, with at most
 * one dialog open: `done` closes it, reloads the list and says what changed.
 */
export function useListPage<T, Open>(path: string) {
  const pages = useCursorPages(path);
  const [round, setRound] = useState(0);
  const list = useLoad(() => api.get<Page<T>>(`${path}${query({ cursor: pages.cursor, limit: 50 })}`), `${pages.cursor ?? ''}|${round}`);
  const [open, setOpen] = useState<Open>();
  const done = (message?: string) => {
    setOpen(undefined);
    setRound((r) => r + 1);
    if (message) announce(message);
  };
  return { pages, list, open, setOpen, done };
}

/**
 * Saves the form of an Add / Edit dialog: PATCH path/id when editing (answers undefined), else
 * POST path, answering what was created (with its one-time secret).
 */
export async function saveResource<Created>(path: string, editingId: string | undefined, body: unknown): Promise<Created | undefined> {
  if (editingId === undefined) return api.post<Created>(path, body);
  await api.patch(`${path}/${encodeURIComponent(editingId)}`, body);
  return undefined;
}
