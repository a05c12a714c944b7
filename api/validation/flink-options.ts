// A resource's own Flink configuration against the options its Flink declares (api/flink-catalogue): a value Flink
// could not read is an error, as Flink would refuse it when the pod starts; a deprecated key, a deprecated option and
// an unknown key are warnings, an unknown one with the key it most likely means.
import { catalogueFor, lookUp, valueProblem, type Catalogue } from '../flink-catalogue/index.js';
import { flattenConfig } from '../flink-config.js';
import { asObject, asString, type Json } from './access.js';
import { configPath, fieldError, shown, type FieldError } from './field-error.js';

/** Warnings are capped (each unknown key costs a search for its nearest known key); errors are capped by the caller. */
const MAX_WARNINGS = 20;

export interface OptionsVerdict {
  errors: FieldError[];
  warnings: string[];
}

export function checkFlinkOptions(spec: Json | undefined): OptionsVerdict {
  const catalogue = catalogueFor(asString(spec?.flinkVersion));
  const own = asObject(spec?.flinkConfiguration);
  if (!catalogue || !own) return { errors: [], warnings: [] };
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  let unwarned = 0;
  for (const [key, value] of Object.entries(flattenConfig(own))) {
    const verdict = lookUp(catalogue, key, warnings.length < MAX_WARNINGS);
    if (verdict.kind === 'known' || verdict.kind === 'deprecated-key') {
      const problem = valueProblem(verdict.option, value);
      if (problem)
        errors.push(
          fieldError(configPath(key), `${shown(value)} ${problem}: ${reads(catalogue, key, verdict.option.key)}`),
        );
    }
    const warning = warningFor(catalogue, key, verdict);
    if (!warning) continue;
    if (warnings.length < MAX_WARNINGS) warnings.push(`${configPath(key)}: ${warning}`);
    else unwarned++;
  }
  if (unwarned > 0)
    warnings.push(`spec.flinkConfiguration: and ${unwarned} more keys to check against Flink ${catalogue.flink}`);
  return { errors, warnings };
}

function reads(catalogue: Catalogue, key: string, optionKey: string): string {
  const type = catalogue.options.get(optionKey)!;
  const what = type.type === 'enum' ? 'one of its values' : `a${/^[AEIOU]/.test(type.type) ? 'n' : ''} ${type.type}`;
  return `Flink ${catalogue.flink} reads ${key === optionKey ? key : `${key} (now ${optionKey})`} as ${what}${type.list ? ' list' : ''} and refuses this`;
}

function warningFor(catalogue: Catalogue, key: string, verdict: ReturnType<typeof lookUp>): string | undefined {
  switch (verdict.kind) {
    case 'deprecated-key':
      return `deprecated in Flink ${catalogue.flink}; use ${verdict.option.key}`;
    case 'known':
      return verdict.option.deprecated ? `deprecated in Flink ${catalogue.flink}` : undefined;
    case 'unknown':
      return verdict.nearest
        ? `not an option of Flink ${catalogue.flink}; did you mean ${verdict.nearest}?`
        : `not an option of Flink ${catalogue.flink} (a plugin's or connector's own keys are not checked)`;
    default:
      return undefined;
  }
}
