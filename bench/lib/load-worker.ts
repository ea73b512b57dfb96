import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './load.js';

// Runs in its own process (see load.ts): one bounded autocannon run, figures sent to the parent.
const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const result = await autocannon({
  url: options.url,
  method: options.method ?? 'GET',
  headers: options.headers ?? {},
  ...(options.body !== undefined && { body: options.body }),
  connections: options.connections ?? 32,
  duration: options.seconds ?? 5,
});
const figures: LoadResult = {
  requestsPerSecond: result.requests.average,
  requests: result.requests.total,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
};
process.send?.(figures);
