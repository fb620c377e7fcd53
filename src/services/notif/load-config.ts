/** Reads the notif configuration file named by CHAINR_NOTIFY_CONFIG (I/O around config-file.ts). */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config.ts';
import { parseNotifyConfig } from './config-file.ts';
import { defaultSettings, type NotifySettings } from './settings.ts';

export function loadNotifySettings(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): NotifySettings {
  if (path === undefined) return defaultSettings();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`CHAINR_NOTIFY_CONFIG: cannot read ${path} (${code})`);
  }
  return parseNotifyConfig(text, path, { env, readFile: (p) => readFileSync(p, 'utf8') });
}
