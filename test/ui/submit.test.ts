/**
 * The Submit page in a real browser: required parameters are asked for before anything is sent,
 * and the problems of a pipeline are listed in the order of its lines.
 */
import { describe, expect, it } from 'vitest';
import { uiSession } from './session.ts';

const session = uiSession();

const withRequiredParam = `kind: Pipeline
metadata:
  name: load-a-table
params:
  table:
    description: the table to load
jobs:
  load:
    image: busybox
    run: echo "loading $CHAINR_PARAM_TABLE"
`;

/** Two problems whose paths sort the other way round from their lines (zeta is above alpha). */
const problemsOutOfPathOrder = `kind: Pipeline
jobs:
  zeta:
    image: busybox
    run: exit 0
    dependsOn:
      - job: nowhere
  alpha:
    image: busybox
    run: exit 0
    dependsOn:
      - job: missing
`;

describe('the Submit page', () => {
  it('asks for a required parameter before sending, then runs with its value', async () => {
    const page = await session.open('/submit');
    await page.getByLabel('Pipeline (YAML or JSON)').fill(withRequiredParam);
    await page.getByText('Valid pipeline: 1 job; fill in table to submit').waitFor();
    const submit = page.getByRole('button', { name: 'Submit run' });
    expect(await submit.isDisabled()).toBe(true);
    const field = page.getByRole('textbox', { name: /^table/ });
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await page.getByText('required: this parameter has no default').waitFor();

    await field.fill('customers');
    await page.getByText('Valid pipeline: 1 job', { exact: true }).waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('false');
    expect(await submit.isDisabled()).toBe(false);
    await submit.click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await page.goto(`${page.url()}/jobs/load`);
    await page.getByRole('log').getByText('loading customers').waitFor({ timeout: 20_000 });
  });

  it('lists the problems in the order of their lines', async () => {
    const page = await session.open('/submit');
    await page.getByLabel('Pipeline (YAML or JSON)').fill(problemsOutOfPathOrder);
    await page.getByText('2 problems').waitFor();
    const problems = page.getByRole('list', { name: 'Problems' }).getByRole('listitem');
    const positions = (await problems.allTextContents()).map((t) => /^line \d+/.exec(t)?.[0]);
    expect(positions).toEqual(['line 7', 'line 12']);
  });
});
