import type { Token } from './api.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const steps: [Intl.RelativeTimeFormatUnit, number][] = [
  ['minute', 60],
  ['hour', 3600],
  ['day', 86400],
  ['month', 30 * 86400],
  ['year', 365 * 86400],
];

/**
 * "in 12 hours", "3 days ago": the unit is the largest that keeps the number at least 1 (up
 * to 47 hours before days, 59 days before months), rounded; under a minute is "now".
 */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  const size = Math.abs(seconds);
  if (size < 60) return seconds >= 0 ? 'in less than a minute' : 'just now';
  const limits: Record<string, number> = { minute: 3600, hour: 48 * 3600, day: 60 * 86400, month: 730 * 86400 };
  const [unit, length] = steps.find(([unit]) => size < (limits[unit] ?? Infinity)) ?? (steps[steps.length - 1] as [Intl.RelativeTimeFormatUnit, number]);
  return relative.format(Math.round(seconds / length), unit);
}

/** Whole days until `iso` (negative once past). */
export function daysUntil(iso: string, now: number = Date.now()): number {
  return (Date.parse(iso) - now) / 86_400_000;
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
