// Regenerates src/openapi.ts from the document of a real server (in memory, on PGlite).
// Run after changing any route schema: `npm run generate -w @tessera/client`.
import { writeFile } from 'node:fs/promises';
import { startTestServer } from '../../server/test/support/server.js';
import { renderTypes } from './render-types.js';

const server = await startTestServer();
try {
  const response = await server.request('GET', '/openapi.json');
  if (response.status !== 200) throw new Error(`/openapi.json answered ${response.status}`);
  const target = new URL('../generated/openapi.d.ts', import.meta.url);
  await writeFile(target, await renderTypes(response.body));
  console.log(`wrote ${target.pathname}`);
} finally {
  await server.close();
}
