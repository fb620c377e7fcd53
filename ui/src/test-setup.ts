/** Component tests: a fresh DOM for each test (pure tests run in plain Node and skip this). */
import { afterEach } from 'vitest';

if (typeof document !== 'undefined') {
  const { cleanup } = await import('@testing-library/react');
  afterEach(cleanup);
}
