#!/usr/bin/env node
// The compiled JavaScript (dist/, built by `npm run build`) where the sources are not beside it
// (the image, the npm package); in a checkout the TypeScript sources themselves, run by tsx, so
// that no build step stands between an edit and a running chainr (and no stale build runs).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
