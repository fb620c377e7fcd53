/** Job outputs: `key=value` lines a job writes to $CHAINR_OUTPUTS, passed to its dependents. */

export const MAX_OUTPUTS_BYTES = 4096;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const mangle = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * The variable a dependent receives an output as: `CHAINR_<JOB>_<KEY>`, both upper-cased with
 * every character other than A-Z and 0-9 replaced by `_` (job `build-app`, key `image_tag` →
 * `CHAINR_BUILD_APP_IMAGE_TAG`).
 */
export function outputEnvName(job: string, key: string): string {
  return `CHAINR_${mangle(job)}_${mangle(key)}`;
}

export type OutputsResult =
  { ok: true; outputs: Record<string, string> } | { ok: false; error: string };

/** Parses an outputs file. Blank lines are ignored; the value is everything after the first `=`. */
export function parseOutputs(text: string): OutputsResult {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_OUTPUTS_BYTES) {
    return {
      ok: false,
      error: `outputs are ${size} bytes, more than the limit of ${MAX_OUTPUTS_BYTES}`,
    };
  }
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) {
      return {
        ok: false,
        error: `outputs line ${i + 1} is not key=value with a key of letters, digits and '_': ${JSON.stringify(line.slice(0, 80))}`,
      };
    }
    outputs[key] = line.slice(eq + 1);
  }
  return { ok: true, outputs };
}

/** The environment a job gets from its dependencies' outputs. */
export function outputsEnv(byJob: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [job, outputs] of Object.entries(byJob)) {
    for (const [key, value] of Object.entries(outputs)) env[outputEnvName(job, key)] = value;
  }
  return env;
}
