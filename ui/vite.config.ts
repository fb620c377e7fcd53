/** Builds the monitoring UI into ui/dist, which chainr serves at `/` (src/services/ui-static.ts). */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompiledPipelineValidator } from './precompiled-validator.ts';

const uiRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: uiRoot,
  base: '/',
  plugins: [react(), precompiledPipelineValidator()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    sourcemap: true,
    // A slow machine is not news worth a warning on every build.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    // `npx vite --config ui/vite.config.ts` next to a running `chainr up` on :8080.
    proxy: { '/api': { target: process.env.CHAINR_API ?? 'http://127.0.0.1:8080' } },
    fs: { allow: [repoRoot] },
  },
});
