// The one JSON Schema of FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot (flink.apache.org/v1beta1).
// It generates the CRDs, drives ajv in the webhook and generates api/types.generated.ts.
// Like upstream's, it has no `required` lists: required-ness lives in api/validation.
import { arrayOf, bool, int, mapOf, num, obj, str, strEnum, type JSONSchemaProps } from './json-schema.js';
import { kubernetesDefinitions } from './kubernetes.generated.js';

export { kubernetesDefinitions };
const k8s = (name: string): JSONSchemaProps => ({ $ref: `#/$defs/${name}` });

export const FLINK_VERSIONS = [
  'v1_13',
  'v1_14',
  'v1_15',
  'v1_16',
  'v1_17',
  'v1_18',
  'v1_19',
  'v1_20',
  'v2_0',
  'v2_1',
  'v2_2',
  'v2_3',
  'v2_4',
] as const;
export const JOB_STATES = ['running', 'suspended'] as const;
export const UPGRADE_MODES = ['last-state', 'savepoint', 'stateless'] as const;
export const DEPLOYMENT_MODES = ['native', 'standalone'] as const;
export const FLINK_JOB_STATUSES = [
  'CANCELED',
  'CANCELLING',
  'CREATED',
  'FAILED',
  'FAILING',
  'FINISHED',
  'INITIALIZING',
  'RECONCILING',
  'RESTARTING',
  'RUNNING',
  'SUSPENDED',
] as const;
export const LIFECYCLE_STATES = [
  'CREATED',
  'DELETED',
  'DELETING',
  'DEPLOYED',
  'FAILED',
  'ROLLED_BACK',
  'ROLLING_BACK',
  'STABLE',
  'SUSPENDED',
  'UPGRADING',
] as const;
export const RECONCILIATION_STATES = ['DEPLOYED', 'ROLLED_BACK', 'ROLLING_BACK', 'UPGRADING'] as const;
export const JOB_MANAGER_DEPLOYMENT_STATUSES = [
  'DEPLOYED_NOT_READY',
  'DEPLOYING',
  'ERROR',
  'MISSING',
  'READY',
] as const;
const SNAPSHOT_TRIGGER_TYPES = ['MANUAL', 'PERIODIC', 'UNKNOWN', 'UPGRADE'] as const;

const podTemplate = (description: string): JSONSchemaProps => ({
  ...k8s('io.k8s.api.core.v1.Pod'),
  description,
  tsType: 'PodTemplate',
});
const resourceRequirements = (): JSONSchemaProps => ({
  ...k8s('io.k8s.api.core.v1.ResourceRequirements'),
  description: 'Kubernetes resource requests and limits of the main container; wins over `resource`.',
  tsType: 'ResourceRequirements',
});

const flinkConfiguration: JSONSchemaProps = {
  description:
    'Flink configuration overrides (flat `key: value` or nested YAML) and per-resource `kubernetes.operator.*` settings.',
  tsType: 'FlinkConfiguration',
  'x-kubernetes-preserve-unknown-fields': true,
};

const legacyResource = obj(
  {
    cpu: num('CPU cores.'),
    memory: str('Memory, as Flink reads it (`2048m` is 2048 MiB) or a Kubernetes quantity (`2Gi`).'),
    ephemeralStorage: str('Ephemeral storage, a Kubernetes quantity.'),
  },
  { title: 'Resource', description: 'CPU and memory of the process (the classic form).' },
);

const jobSpec = obj(
  {
    jarURI: str('The job jar: `local:///opt/flink/...` inside the image, or an `https://` URL for session jobs.'),
    parallelism: int('Job parallelism; must be at least 1 unless `taskManager.replicas` is set.'),
    entryClass: str('Fully qualified main class of the job.'),
    args: arrayOf(str(), 'Arguments of the main method.'),
    state: strEnum(JOB_STATES, 'Desired state of the job: `running` or `suspended`. Defaults to `running`.'),
    upgradeMode: strEnum(
      UPGRADE_MODES,
      'How the job keeps its state across upgrades and suspends: `stateless`, `savepoint` or `last-state`. Defaults to `stateless`.',
    ),
    savepointTriggerNonce: int('Change to a new value to take a savepoint now.'),
    checkpointTriggerNonce: int('Change to a new value to take a checkpoint now.'),
    initialSavepointPath: str('Savepoint to start from on the first deployment.'),
    allowNonRestoredState: bool('Allow skipping savepoint state that cannot be mapped to the new program.'),
    savepointRedeployNonce: int('Change to a new value to redeploy from `initialSavepointPath`.'),
    autoscalerResetNonce: int('Change to a new value to reset the autoscaler.'),
  },
  { title: 'JobSpec', description: 'The Flink job; absent on a session cluster.' },
);

const jobManagerSpec = obj(
  {
    resource: legacyResource,
    resources: resourceRequirements(),
    replicas: int('Number of JobManagers (more than one needs high availability). Defaults to 1.'),
    podTemplate: podTemplate('JobManager pod template, merged over `spec.podTemplate`.'),
  },
  { title: 'JobManagerSpec', description: 'The JobManager.' },
);

const taskManagerSpec = obj(
  {
    resource: legacyResource,
    resources: resourceRequirements(),
    replicas: int('Number of TaskManagers; when set it wins over `job.parallelism`.'),
    podTemplate: podTemplate('TaskManager pod template, merged over `spec.podTemplate`.'),
  },
  { title: 'TaskManagerSpec', description: 'The TaskManagers.' },
);

const ingressSpec = obj(
  {
    template: str('URL template of the Flink UI; `{{name}}` and `{{namespace}}` are substituted.'),
    className: str('Ingress class name.'),
    annotations: mapOf(str(), 'Annotations of the Ingress.'),
    labels: mapOf(str(), 'Labels of the Ingress.'),
    tls: arrayOf(
      { ...k8s('io.k8s.api.networking.v1.IngressTLS'), tsType: 'IngressTLS' },
      'TLS settings of the Ingress.',
    ),
  },
  { title: 'IngressSpec', description: 'An Ingress for the Flink UI.' },
);

const snapshotRecord = (formatTypes: readonly string[]): JSONSchemaProps =>
  obj({
    timeStamp: int(),
    location: str(),
    triggerType: strEnum(SNAPSHOT_TRIGGER_TYPES),
    formatType: strEnum(formatTypes),
    triggerNonce: int(),
  });

const SAVEPOINT_FORMATS = ['CANONICAL', 'NATIVE', 'UNKNOWN'] as const;
const CHECKPOINT_FORMATS = ['FULL', 'INCREMENTAL', 'UNKNOWN'] as const;
const { location: _location, ...checkpointRecordProps } = snapshotRecord(CHECKPOINT_FORMATS).properties ?? {};

const jobStatus = obj(
  {
    jobName: str('Name of the Flink job.'),
    jobId: str('Id of the Flink job (32 hex digits).'),
    state: strEnum(FLINK_JOB_STATUSES, 'Last observed state of the Flink job.'),
    startTime: str('Start time of the job, epoch milliseconds.'),
    updateTime: str('Time of the last observed change, epoch milliseconds.'),
    upgradeSavepointPath: str('Savepoint or checkpoint the next stateful restore uses.'),
    savepointInfo: obj(
      {
        lastSavepoint: snapshotRecord(SAVEPOINT_FORMATS),
        triggerId: str(),
        triggerTimestamp: int(),
        triggerType: strEnum(SNAPSHOT_TRIGGER_TYPES),
        formatType: strEnum(SAVEPOINT_FORMATS),
        savepointHistory: arrayOf(snapshotRecord(SAVEPOINT_FORMATS)),
        lastPeriodicSavepointTimestamp: int(),
      },
      { title: 'SavepointInfo', description: 'Savepoints of the job.' },
    ),
    checkpointInfo: obj(
      {
        lastCheckpoint: obj(checkpointRecordProps),
        triggerId: str(),
        triggerTimestamp: int(),
        triggerType: strEnum(SNAPSHOT_TRIGGER_TYPES),
        formatType: strEnum(CHECKPOINT_FORMATS),
        lastPeriodicCheckpointTimestamp: int(),
      },
      { title: 'CheckpointInfo', description: 'Manual checkpoints of the job.' },
    ),
  },
  { title: 'JobStatus', description: 'The Flink job as last observed.' },
);

const reconciliationStatus = obj(
  {
    reconciliationTimestamp: int('Epoch milliseconds of the last deploy attempt.'),
    lastReconciledSpec: str('The last spec the operator acted on (JSON).'),
    lastStableSpec: str('The last spec that became stable (JSON).'),
    state: strEnum(RECONCILIATION_STATES, 'Where the operator is with the last reconciled spec.'),
  },
  { title: 'ReconciliationStatus' },
);

const commonStatus: Record<string, JSONSchemaProps> = {
  jobStatus,
  error: str('The last error, a JSON document `{"type", "message", "throwableList"}`.'),
  observedGeneration: int('The metadata.generation the operator last reconciled.'),
  lifecycleState: strEnum(LIFECYCLE_STATES, 'Lifecycle state of the resource.'),
  reconciliationStatus,
};

export const AUTOSCALER_PHASES = [
  'Stabilizing',
  'CollectingMetrics',
  'MetricsIncomplete',
  'Evaluated',
  'Recommending',
  'Rescaling',
  'RescaleIgnored',
] as const;
export const AUTOSCALER_BLOCKS = [
  'WithinBand', // its processing rate is inside the utilisation band: nothing to do
  'DelayedScaleDown', // a scale-down waits out scale-down.interval
  'Ineffective', // the last scale-up did not raise its processing rate (and blocking is on)
  'MemoryPressure', // the TaskManagers' GC time or heap use is over its threshold
  'DryRun', // scaling.enabled is false: recommendations only
  'ExcludedPeriod', // now is in one of excluded.periods: recommendations only
  'Excluded', // vertex.exclude.ids, or the vertex finished
  'AtLimit', // outside the band, but its limits or alignment leave its parallelism as it is
  'NoProcessingRate', // no processing rate could be measured
  'MetricsIncomplete', // the cycle's metrics were incomplete or late
  'WindowNotFull', // the metrics window is not full yet
  'Stabilizing', // the job (re)started within stabilization.interval
] as const;

const autoscalerStatus = obj(
  {
    phase: strEnum(AUTOSCALER_PHASES, 'Where the autoscaler is with the running job.'),
    message: str('What it last decided, or why it decided nothing.'),
    lastEvaluationTime: str('When it last evaluated a full metrics window.'),
    windowFullAt: str('When the metrics window it is collecting will be full.'),
    vertices: arrayOf(
      obj(
        {
          id: str('The job vertex id.'),
          name: str(),
          parallelism: int('As Flink runs it.'),
          recommended: int('What the autoscaler recommends.'),
          unaligned: int('The recommendation before alignment to key groups or source partitions.'),
          busyRatio: num('Busy time share, 0 to 1, over the window.'),
          trueProcessingRate: num('Records/s at 100 % busy.'),
          targetRate: num('Records/s the vertex must sustain.'),
          catchUpRate: num('Extra records/s that drain the lag within the catch-up duration.'),
          lag: num('Pending records (sources).'),
          scaleUpThreshold: num('Below this processing rate the vertex lacks capacity.'),
          scaleDownThreshold: num('Above this processing rate it has capacity to spare.'),
          expectedProcessingRate: num('Records/s at 100 % busy at the recommended parallelism.'),
          maxParallelism: int(),
          partitions: int('Source partitions, when its connector reports them.'),
          blockedBy: strEnum(AUTOSCALER_BLOCKS, 'Why the vertex is not at its recommendation.'),
          blockedUntil: str('When a delayed scale-down may happen.'),
        },
        { title: 'AutoscalerVertexStatus' },
      ),
    ),
    reported: obj({ parallelism: str(), time: str() }, { title: 'AutoscalerReport' }),
    rescale: obj(
      {
        parallelism: str('The parallelism overrides asked for (vid:p,…).'),
        requestedAt: str('When the running job was asked to rescale in place.'),
        fallback: bool('True once the job is upgraded instead (the rescale did not take in time, or was refused).'),
        reason: str('Why it fell back.'),
      },
      { title: 'AutoscalerRescale' },
    ),
  },
  {
    title: 'AutoscalerStatus',
    description: "The autoscaler's view of the job and why it acts or not (not an upstream field).",
  },
);

export const flinkDeploymentSchema: JSONSchemaProps = obj(
  {
    apiVersion: str(),
    kind: str(),
    metadata: { type: 'object', tsType: 'ObjectMeta' },
    spec: obj(
      {
        job: jobSpec,
        restartNonce: int('Change to a new value to restart the cluster.'),
        flinkConfiguration,
        image: str('The Flink image of the JobManager and TaskManager pods. Required.'),
        imagePullPolicy: str('Image pull policy: Always, IfNotPresent or Never.'),
        serviceAccount: str('Service account of the Flink pods. Defaults to `flink`.'),
        flinkVersion: strEnum(FLINK_VERSIONS, 'Flink version of the image, e.g. `v1_20` or `v2_2`. Required.'),
        ingress: ingressSpec,
        podTemplate: podTemplate('Pod template shared by the JobManager and TaskManager pods.'),
        jobManager: jobManagerSpec,
        taskManager: taskManagerSpec,
        logConfiguration: mapOf(str(), 'Log configuration files: `log4j-console.properties` or `logback-console.xml`.'),
        mode: strEnum(DEPLOYMENT_MODES, 'Kubernetes deployment mode: `native` or `standalone`. Defaults to `native`.'),
      },
      { title: 'FlinkDeploymentSpec', description: 'The desired Flink cluster and, in application mode, its job.' },
    ),
    status: obj(
      {
        ...commonStatus,
        clusterInfo: mapOf(str(), 'Flink version, revision and resources of the running cluster.'),
        jobManagerDeploymentStatus: strEnum(JOB_MANAGER_DEPLOYMENT_STATUSES, 'State of the JobManager deployment.'),
        autoscaler: autoscalerStatus,
        taskManager: obj(
          { labelSelector: str(), replicas: int() },
          { title: 'TaskManagerInfo', description: 'TaskManager replicas, for the scale subresource.' },
        ),
        conditions: arrayOf(
          obj(
            {
              type: str(),
              status: str(),
              reason: str(),
              message: str(),
              lastTransitionTime: str(),
              observedGeneration: int(),
            },
            { title: 'Condition' },
          ),
        ),
      },
      { title: 'FlinkDeploymentStatus', description: 'What the operator observed and did.' },
    ),
  },
  {
    title: 'FlinkDeployment',
    description: 'A Flink cluster: an application cluster with its job, or a session cluster.',
  },
);

export const flinkSessionJobSchema: JSONSchemaProps = obj(
  {
    apiVersion: str(),
    kind: str(),
    metadata: { type: 'object', tsType: 'ObjectMeta' },
    spec: obj(
      {
        deploymentName: str('Name of the session FlinkDeployment (same namespace) that runs the job.'),
        job: jobSpec,
        restartNonce: int('Change to a new value to restart the job.'),
        flinkConfiguration,
      },
      { title: 'FlinkSessionJobSpec', description: 'A job to run on a session cluster.' },
    ),
    status: obj(
      {
        ...commonStatus,
        jar: obj(
          {
            uri: str('The jarURI it was fetched from.'),
            version: str(
              "The version its server named: an object store's ETag or generation, else the ETag or Last-Modified of https.",
            ),
            bytes: int('Its size.'),
          },
          { title: 'SubmittedJar', description: 'The jar the job was last submitted from (not an upstream field).' },
        ),
      },
      { title: 'FlinkSessionJobStatus', description: 'What the operator observed and did.' },
    ),
  },
  { title: 'FlinkSessionJob', description: 'A Flink job submitted to a session FlinkDeployment.' },
);

export const SNAPSHOT_STATES = ['ABANDONED', 'COMPLETED', 'FAILED', 'IN_PROGRESS', 'TRIGGER_PENDING'] as const;
export const JOB_REFERENCE_KINDS = ['FlinkDeployment', 'FlinkSessionJob'] as const;

export const flinkStateSnapshotSchema: JSONSchemaProps = obj(
  {
    apiVersion: str(),
    kind: str(),
    metadata: { type: 'object', tsType: 'ObjectMeta' },
    spec: obj(
      {
        jobReference: obj(
          {
            kind: strEnum(JOB_REFERENCE_KINDS, 'Kind of the job resource: `FlinkDeployment` or `FlinkSessionJob`.'),
            name: str("Name of the job resource, in the snapshot's namespace."),
          },
          {
            title: 'JobReference',
            description: 'The job whose state is snapshotted. Required unless the savepoint already exists.',
          },
        ),
        savepoint: obj(
          {
            path: str(
              "Where the savepoint goes (default: the job's `execution.checkpointing.savepoint-dir`), or is, with `alreadyExists`.",
            ),
            formatType: strEnum(SAVEPOINT_FORMATS, 'Savepoint format: `CANONICAL` (default) or `NATIVE`.'),
            disposeOnDelete: bool(
              'Dispose of the savepoint through Flink when this resource is deleted. Defaults to true.',
            ),
            alreadyExists: bool('The savepoint exists at `path`: record it, take none. Defaults to false.'),
          },
          {
            title: 'SavepointSpec',
            description: 'Take (or record) a savepoint. Exactly one of `savepoint` and `checkpoint`.',
          },
        ),
        checkpoint: obj(
          {},
          {
            title: 'CheckpointSpec',
            description: 'Take a full checkpoint. Exactly one of `savepoint` and `checkpoint`.',
          },
        ),
        backoffLimit: int('Retries after a failed attempt; -1 (default) retries forever, 0 never.'),
      },
      { title: 'FlinkStateSnapshotSpec', description: 'A savepoint or checkpoint of a running job.' },
    ),
    status: obj(
      {
        state: strEnum(
          SNAPSHOT_STATES,
          'TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED (the job stopped running).',
        ),
        triggerId: str('Id of the trigger in Flink.'),
        triggerTimestamp: str('When the snapshot was triggered (RFC 3339).'),
        resultTimestamp: str('When it completed, failed or was abandoned (RFC 3339).'),
        path: str('Where the completed snapshot is.'),
        error: str('Why the last attempt failed.'),
        failures: int('Failed attempts so far.'),
      },
      { title: 'FlinkStateSnapshotStatus', description: 'What the operator observed and did.' },
    ),
  },
  {
    title: 'FlinkStateSnapshot',
    description: "A savepoint or checkpoint of a FlinkDeployment's or FlinkSessionJob's job.",
  },
);
