import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The server serves the build at /console (packages/server/src/http/console.ts). @tessera/rules
// is bundled from its TypeScript sources, so the browser runs the very checks the server runs
// without a prior build of that package.
export default defineConfig({
  base: '/console/',
  plugins: [preact()],
  resolve: {
    alias: { '@tessera/rules': fileURLToPath(new URL('../rules/src/index.ts', import.meta.url)) },
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
