import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes `<file>.br` and `<file>.gz` beside every built text file, once, at build time, so the
 * server sends the smallest encoding the browser accepts without compressing per request
 * (http/console.ts picks one by Accept-Encoding). Brotli at its highest quality: it runs once per
 * build, and the script is most of what a first visit downloads. A file below 1 KiB, or one that
 * does not shrink, stays uncompressed only.
 */
function precompress(): Plugin {
  const compressible = /\.(js|mjs|css|html|svg|json|txt|webmanifest)$/;
  return {
    name: 'tessera-precompress',
    apply: 'build',
    enforce: 'post',
    writeBundle(options, bundle) {
      const dir = options.dir;
      if (!dir) return;
      for (const fileName of Object.keys(bundle)) {
        if (!compressible.test(fileName)) continue;
        const path = join(dir, fileName);
        const content = readFileSync(path);
        if (content.length < 1024) continue;
        const brotli = brotliCompressSync(content, {
          params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: content.length },
        });
        const gzip = gzipSync(content, { level: constants.Z_BEST_COMPRESSION });
        if (brotli.length < content.length) writeFileSync(`${path}.br`, brotli);
        if (gzip.length < content.length) writeFileSync(`${path}.gz`, gzip);
      }
    },
  };
}

// The server serves the build at /console (packages/server/src/http/console.ts). @tessera/rules
// is bundled from its TypeScript sources, so the browser runs the very checks the server runs
// without a prior build of that package.
//
// No source maps by default: a public map hands out the console's sources with their comments.
// TESSERA_CONSOLE_SOURCEMAPS=hidden at build time writes maps that no script names, for an
// error tracker; the server never serves a .map file either way.
export default defineConfig({
  base: '/console/',
  plugins: [preact(), precompress()],
  resolve: {
    alias: { '@tessera/rules': fileURLToPath(new URL('../rules/src/index.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: process.env['TESSERA_CONSOLE_SOURCEMAPS'] === 'hidden' ? 'hidden' : false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
