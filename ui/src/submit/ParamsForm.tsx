/** Values for the parameters a pipeline declares, defaults filled in. */
import type { ParamSpec } from '../../../src/core/types.ts';

export interface ParamsFormProps {
  params: Record<string, ParamSpec>;
  values: Record<string, string>;
  onChange: (values: Record<string, string>) => void;
  /** The server does not take values yet: the defaults are used. */
  disabled: boolean;
}

export function ParamsForm({ params, values, onChange, disabled }: ParamsFormProps) {
  const entries = Object.entries(params);
  if (entries.length === 0) return null;
  const missing = new Set(disabled ? [] : missingParams(params, values));
  return (
    <fieldset className="params" disabled={disabled}>
      <legend>Parameters</legend>
      {disabled && (
        <p className="muted">
          This chainr does not take parameter values yet; the defaults are used.
        </p>
      )}
      {entries.map(([name, spec]) => (
        <label key={name} className="field">
          <span className="mono">{name}</span>
          <input
            type="text"
            value={values[name] ?? spec.default ?? ''}
            placeholder={spec.default === undefined ? 'required' : spec.default}
            required={spec.default === undefined}
            aria-invalid={missing.has(name)}
            onChange={(event) => onChange({ ...values, [name]: event.target.value })}
          />
          {spec.description && <span className="field-help">{spec.description}</span>}
          {missing.has(name) && (
            <span className="field-error">required: this parameter has no default</span>
          )}
        </label>
      ))}
    </fieldset>
  );
}

/** The values to send: every declared parameter, the default where none was typed. */
export function paramValues(
  params: Record<string, ParamSpec>,
  values: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(params)) {
    const value = values[name] ?? spec.default;
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Declared parameters with no default and no value yet: a run cannot start without them. */
export function missingParams(
  params: Record<string, ParamSpec>,
  values: Record<string, string>,
): string[] {
  return Object.entries(params)
    .filter(([name, spec]) => spec.default === undefined && (values[name] ?? '') === '')
    .map(([name]) => name);
}
