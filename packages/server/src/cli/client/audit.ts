import type { AuditEvent, AuditQuery, QueryOf } from '@tessera/client';
import type { Page } from './principals.js';
import { ConnectionError, reasonOf, type Transport } from './transport.js';

export type AuditExportQuery = QueryOf<'/api/v1/audit-events/export', 'get'>;

export function auditOf(t: Transport) {
  return {
    list: (query: AuditQuery = {}): Promise<Page<AuditEvent>> => t.call((signal) => t.api.GET('/api/v1/audit-events', { params: { query }, signal })),
    /**
     * GET /audit-events/export: JSON Lines, newest first. Resolves once the server has
     * accepted the request (a refusal is an ApiError); the lines then stream.
     */
    export: async (query: AuditExportQuery = {}): Promise<AsyncIterable<string>> => {
      // Only the start of the answer is timed: a long export may take longer than any timeout.
      const body = await t.call((signal) => t.streaming.GET('/api/v1/audit-events/export', { params: { query }, parseAs: 'stream', signal }));
      if (!body) return (async function* () {})();
      return lines(body, t.baseUrl);
    },
  };
}

/**
 * The embedded database as a gzipped tar (`GET /backup`), streamed as it arrives. A copy of a
 * large database takes a while: ten minutes before giving up, not the usual timeout.
 */
export async function backupOf(t: Transport): Promise<{ body: ReadableStream<Uint8Array>; done: () => void }> {
  const { signal, done } = t.deadline(600_000);
  let body: ReadableStream<Uint8Array> | null | undefined;
  try {
    body = await t.settle(t.streaming.GET('/api/v1/backup', { parseAs: 'stream', signal }));
  } catch (error) {
    done();
    throw error;
  }
  if (!body) throw new ConnectionError(t.baseUrl, 'the backup came without a body');
  return { body, done };
}

/** Splits a byte stream into lines (without their newline). */
async function* lines(body: ReadableStream<Uint8Array>, baseUrl: string): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new ConnectionError(baseUrl, `the export was cut off (${reasonOf(error)})`);
      }
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line !== '') yield line;
      }
    }
    buffered += decoder.decode();
    if (buffered !== '') yield buffered;
  } finally {
    reader.releaseLock();
  }
}

