/**
 * Screenshots of the UI's main pages: written under test-results/ui/ on every run, and copied
 * to docs/screenshots/ (the ones the README shows) when UPDATE_SCREENSHOTS=1.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(repo, 'test-results', 'ui');
const DOCS = join(repo, 'docs', 'screenshots');

export async function screenshot(
  page: Page,
  name: string,
  options: { docs?: boolean } = {},
): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // Let transitions and the live clock settle so screenshots are steady.
  await page.waitForTimeout(150);
  await page.screenshot({ path, animations: 'disabled' });
  if (process.env.UPDATE_SCREENSHOTS === '1' && options.docs !== false) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, `${name}.png`));
  }
  return path;
}
