import type { Token } from './api.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatDate(iso: string | null | undefined): string {
  return iso ? dateOnly.format(new Date(iso)) : '—';
}

/** "renewable until" for refreshable tokens (their access tokens are renewed until then), "expires" for direct ones. */
export function expiryLabel(token: Pick<Token, 'mode'>): string {
  return token.mode === 'refreshable' ? 'Renewable until' : 'Expires';
}

export function scopeLabel(token: Pick<Token, 'scope'>): string {
  if (token.scope.kind === 'all') return 'All';
  if (token.scope.kind === 'custom') return `Custom (${token.scope.endpoints.length} endpoint${token.scope.endpoints.length === 1 ? '' : 's'})`;
  return `Preset: ${token.scope.kind}`;
}

export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return 'none';
  const units: [string, number][] = [['Y', 31536000], ['D', 86400], ['h', 3600], ['m', 60]];
  for (const [unit, size] of units) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}
