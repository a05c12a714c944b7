// A resource's own Flink configuration against the options its Flink declares (api/flink-catalogue), and its
// `kubernetes.operator.*` keys against the operator's registry (api/operator-options.ts): a value that could not be
// read is an error, as Flink would refuse it when the pod starts; a deprecated key, a deprecated option, an operator
// key a resource cannot override and an unknown key are warnings, an unknown one with the key it most likely means.
import { catalogueFor, lookUp, nearestOf, valueProblem, type Catalogue } from '../flink-catalogue/index.js';
import { flattenConfig, isBlank } from '../flink-config.js';
import { autoscalerKeys, autoscalerOptionFor, isAutoscalerKey } from '../autoscaler/options.js';
import { operatorOptionFor, OPTIONS, type OperatorOption } from '../operator-options.js';
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
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  if (!own) return { errors, warnings };
  let unwarned = 0;
  for (const [key, value] of Object.entries(flattenConfig(own))) {
    const suggest = warnings.length < MAX_WARNINGS;
    const found = isAutoscalerKey(key)
      ? registeredKey(AUTOSCALER_KEYS, key, value, suggest)
      : key.startsWith(OPERATOR_PREFIX)
        ? registeredKey(OPERATOR_KEYS, key, value, suggest)
        : catalogue
          ? flinkKey(catalogue, key, value, suggest)
          : {};
    if (found.error) errors.push(fieldError(configPath(key), found.error));
    if (!found.warning) continue;
    if (suggest) warnings.push(`${configPath(key)}: ${found.warning}`);
    else unwarned++;
  }
  if (unwarned > 0) warnings.push(`spec.flinkConfiguration: and ${unwarned} more keys to check`);
  return { errors, warnings };
}

const OPERATOR_PREFIX = 'kubernetes.operator.';

interface KeyFinding {
  error?: string;
  warning?: string;
}

function flinkKey(catalogue: Catalogue, key: string, value: string, suggest: boolean): KeyFinding {
  const verdict = lookUp(catalogue, key, suggest);
  const problem =
    verdict.kind === 'known' || verdict.kind === 'deprecated-key' ? valueProblem(verdict.option, value) : undefined;
  const warning = warningFor(catalogue, verdict);
  return {
    ...(problem && 'option' in verdict
      ? { error: `${shown(value)} ${problem}: ${reads(catalogue, key, verdict.option.key)}` }
      : {}),
    ...(warning ? { warning } : {}),
  };
}

/** A registry of keys the operator itself reads, and how a message names it. */
interface Registry {
  optionFor: (key: string) => (OperatorOption<unknown> & { acted?: boolean }) | undefined;
  keys: () => string[];
  unknown: string;
  section: string;
  reader: string;
}

const OPERATOR_KEYS: Registry = {
  optionFor: operatorOptionFor,
  keys: () => Object.values(OPTIONS).map((o) => o.key),
  unknown: 'not an option this operator reads',
  section: 'Configuration',
  reader: 'the operator',
};

const AUTOSCALER_KEYS: Registry = {
  optionFor: autoscalerOptionFor,
  keys: autoscalerKeys,
  unknown: 'not an autoscaler option',
  section: 'The autoscaler',
  reader: 'the autoscaler',
};

/** The operator's own keys (`kubernetes.operator.*`, `job.autoscaler.*`), from their registries, whatever the Flink. */
function registeredKey(r: Registry, key: string, value: string, suggest: boolean): KeyFinding {
  const option = r.optionFor(key);
  if (!option) {
    const nearest = suggest ? nearestOf(r.keys(), key) : undefined;
    return { warning: `${r.unknown}${nearest ? `; did you mean ${nearest}?` : ` (README, ${r.section})`}` };
  }
  const unreadable = option.expects && !isBlank(value) && option.parse(value) === undefined;
  const warning = !option.perResource
    ? "read from the operator's configuration only: set on a resource it changes nothing"
    : key !== option.key
      ? `deprecated; use ${option.key}`
      : option.acted === false
        ? `read, but this operator does not act on it yet (README, ${r.section})`
        : undefined;
  return {
    ...(unreadable
      ? { error: `${shown(value)} is not ${option.expects}: ${r.reader} reads ${option.key} as one` }
      : {}),
    ...(warning ? { warning } : {}),
  };
}

function reads(catalogue: Catalogue, key: string, optionKey: string): string {
  const type = catalogue.options.get(optionKey)!;
  const what = type.type === 'enum' ? 'one of its values' : `a${/^[AEIOU]/.test(type.type) ? 'n' : ''} ${type.type}`;
  return `Flink ${catalogue.flink} reads ${key === optionKey ? key : `${key} (now ${optionKey})`} as ${what}${type.list ? ' list' : ''} and refuses this`;
}

function warningFor(catalogue: Catalogue, verdict: ReturnType<typeof lookUp>): string | undefined {
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
