// JobManager and TaskManager resources (upstream DefaultValidator#validateJmSpec/validateTmSpec).
import { isBlank, isHighAvailabilityEnabled, parseMemory, parseQuantity, type FlatConfig } from '../flink-config.js';
import { deriveProcessMemory, type MemoryComponent } from '../flink-memory.js';
import { asInteger, asObject, asString, type Json } from './access.js';
import { configPath, fieldError, keyPath, shown, type FieldError } from './field-error.js';

type Component = 'jobManager' | 'taskManager';
const LABEL: Record<Component, string> = { jobManager: 'JobManager', taskManager: 'TaskManager' };
const FLINK_PREFIX: Record<Component, MemoryComponent> = { jobManager: 'jobmanager', taskManager: 'taskmanager' };

export function validateComponent(spec: Json, component: Component, config: FlatConfig): FieldError[] {
  const path = `spec.${component}`;
  const section = asObject(spec[component]);
  const errors = [
    ...validateMemoryDefined(section, component, config),
    ...validateLegacyResource(asObject(section?.resource), `${path}.resource`, component),
    ...validateResourceRequirements(asObject(section?.resources), `${path}.resources`),
  ];
  const replicas = asInteger(section?.replicas);
  if (component === 'jobManager' && replicas !== undefined) {
    if (replicas < 1) errors.push(fieldError(`${path}.replicas`, `must be at least 1 (got ${replicas})`));
    else if (replicas > 1 && !isHighAvailabilityEnabled(config)) {
      errors.push(
        fieldError(
          `${path}.replicas`,
          `standby JobManagers (replicas ${replicas}) need high availability; set spec.flinkConfiguration["high-availability.type"] or use 1 replica`,
        ),
      );
    }
  }
  if (component === 'taskManager' && replicas !== undefined && replicas < 1) {
    errors.push(fieldError(`${path}.replicas`, `must be at least 1 when set (got ${replicas})`));
  }
  return errors;
}

/**
 * Memory not given as a resource must be derivable by Flink from the configuration (upstream runs Flink's own
 * process-spec derivation): a key being present is not enough, the sizes have to add up.
 */
function validateMemoryDefined(section: Json | undefined, component: Component, config: FlatConfig): FieldError[] {
  const given = resourceMemory(section, component);
  if (given) return validateGivenMemory(given, component, config);
  const derived = deriveProcessMemory(config, FLINK_PREFIX[component]);
  if (derived.ok) return [];
  if (derived.unset) {
    return [
      fieldError(
        `spec.${component}.resource.memory`,
        `is required (${LABEL[component]} memory): set spec.${component}.resource.memory, spec.${component}.resources.requests.memory or ${configPath(`${FLINK_PREFIX[component]}.memory.process.size`)}`,
      ),
    ];
  }
  return [
    fieldError(
      'spec.flinkConfiguration',
      `Flink cannot size the ${LABEL[component]} process from these memory keys: ${derived.problem}; fix them or set spec.${component}.resource.memory`,
    ),
  ];
}

/** The memory the spec gives the process, and where (as the configuration is built: requests, else limits, else the legacy resource). */
function resourceMemory(section: Json | undefined, component: Component): { field: string; value: string } | undefined {
  const resources = asObject(section?.resources);
  const hasResources = ['requests', 'limits'].some((k) => asObject(resources?.[k]) !== undefined);
  const candidates: [string, unknown][] = hasResources
    ? [
        [keyPath(`spec.${component}.resources.requests`, 'memory'), asObject(resources?.requests)?.memory],
        [keyPath(`spec.${component}.resources.limits`, 'memory'), asObject(resources?.limits)?.memory],
      ]
    : [[`spec.${component}.resource.memory`, asObject(section?.resource)?.memory]];
  for (const [field, value] of candidates) {
    const text = asString(value);
    if (!isBlank(text)) return { field, value: text! };
  }
  return undefined;
}

/**
 * A process size from the spec must leave room for what Flink sizes regardless (metaspace, JVM overhead, framework
 * and network memory): Flink's own derivation refuses it at start-up — a pod that crash-loops — so admission does.
 */
function validateGivenMemory(
  given: { field: string; value: string },
  component: Component,
  config: FlatConfig,
): FieldError[] {
  const bytes = parseMemory(given.value);
  if (bytes === undefined || bytes <= 0) return []; // the value's own rule says what is wrong with it
  const prefix = FLINK_PREFIX[component];
  const derived = deriveProcessMemory({ ...config, [`${prefix}.memory.process.size`]: `${bytes}b` }, prefix);
  if (derived.ok) return [];
  return [
    fieldError(
      given.field,
      `${LABEL[component]} memory ${shown(given.value)} cannot start a Flink process: ${derived.problem}; give it more memory or lower those sizes in spec.flinkConfiguration`,
    ),
  ];
}

function validateLegacyResource(resource: Json | undefined, path: string, component: Component): FieldError[] {
  if (!resource) return [];
  const errors: FieldError[] = [];
  const memory = asString(resource.memory);
  if (!isBlank(memory)) {
    const bytes = parseMemory(memory!);
    if (bytes === undefined)
      errors.push(
        fieldError(
          `${path}.memory`,
          `${LABEL[component]} memory ${shown(memory)} is not a memory size (e.g. 2048m, 2g, 2Gi)`,
        ),
      );
    // Flink's MemorySize holds 0 to Long.MAX_VALUE bytes.
    else if (bytes < 0 || bytes >= 2 ** 63)
      errors.push(
        fieldError(`${path}.memory`, `${LABEL[component]} memory ${shown(memory)} must be between 0 and 2^63-1 bytes`),
      );
  }
  // Any value given is parsed, as upstream does: an empty string is not a quantity.
  const storage = asString(resource.ephemeralStorage);
  if (storage !== undefined && parseQuantity(storage) === undefined) {
    errors.push(fieldError(`${path}.ephemeralStorage`, `${shown(storage)} is not a Kubernetes quantity (e.g. 2Gi)`));
  }
  return errors;
}

function validateResourceRequirements(resources: Json | undefined, path: string): FieldError[] {
  if (!resources) return [];
  const errors: FieldError[] = [];
  const parsed: Record<'requests' | 'limits', Record<string, number>> = { requests: {}, limits: {} };
  for (const kind of ['requests', 'limits'] as const) {
    const entries = asObject(resources[kind]) ?? {};
    for (const [name, raw] of Object.entries(entries)) {
      if (typeof raw !== 'string' && typeof raw !== 'number') continue; // the schema reports the type
      const field = () => keyPath(`${path}.${kind}`, name); // rendered only for a problem
      const amount = name === 'memory' ? parseMemory(raw) : parseQuantity(raw);
      if (amount === undefined) {
        errors.push(
          fieldError(field(), `${shown(raw)} is not a ${name === 'memory' ? 'memory size' : 'Kubernetes quantity'}`),
        );
        continue;
      }
      parsed[kind][name] = amount;
      if ((name === 'memory' || name === 'cpu') && amount <= 0)
        errors.push(fieldError(field(), `must be positive (got ${shown(raw)})`));
      else if (amount < 0) errors.push(fieldError(field(), `must not be negative (got ${shown(raw)})`));
    }
  }
  for (const name of ['cpu', 'memory']) {
    const request = parsed.requests[name];
    const limit = parsed.limits[name];
    if (request !== undefined && limit !== undefined && request > limit) {
      const raw = (kind: string) => shown(asObject(resources[kind])?.[name]);
      errors.push(
        fieldError(
          keyPath(`${path}.requests`, name),
          `request ${raw('requests')} must not exceed its limit ${raw('limits')}`,
        ),
      );
    }
  }
  return errors;
}
