// The object stores' settings: the operator configuration with, over it, the Secret that
// `kubernetes.operator.user.artifacts.credentials.secret` names (`<namespace>/<name>`, keys as Flink and Hadoop name
// them). The Secret is read again after a short while, so a rotated key is used without a restart; its values are
// handed on as secrets, for the fetcher to keep out of every error.
import type { FlatConfig } from '../../api/flink-config.js';
import { option, OPTIONS } from '../../api/operator-options.js';
import { isNotFound, KubeApiError, objectPath, type KubeClient, type KubeObject } from '../../kube/client.js';
import { ObjectStoreError } from './object-stores/index.js';

export interface StoreSettingsSnapshot {
  config: FlatConfig;
  secrets: string[];
}

const CREDENTIALS_SECRET_KEY = OPTIONS.artifactsCredentialsSecret.key;

export class StoreSettings {
  private cached: { at: number; snapshot: StoreSettingsSnapshot } | undefined;

  constructor(
    private readonly config: () => FlatConfig,
    private readonly client: KubeClient,
    private readonly ttlMs = 30_000,
  ) {}

  async current(): Promise<StoreSettingsSnapshot> {
    const named = option(this.config(), OPTIONS.artifactsCredentialsSecret);
    if (!named) return { config: this.config(), secrets: [] };
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.snapshot;
    const [namespace, name] = named.includes('/') ? named.split('/', 2) : [undefined, named];
    if (!namespace || !name)
      throw new ObjectStoreError(`${CREDENTIALS_SECRET_KEY} must be <namespace>/<name>, not ${JSON.stringify(named)}`);
    let secret: KubeObject & { data?: Record<string, string> };
    try {
      secret = await this.client.get(objectPath('v1', 'secrets', namespace, name));
    } catch (err) {
      if (isNotFound(err))
        throw new ObjectStoreError(`the Secret ${named} named in ${CREDENTIALS_SECRET_KEY} does not exist`);
      if (err instanceof KubeApiError && err.status === 403)
        throw new ObjectStoreError(
          `the operator may not read the Secret ${named} named in ${CREDENTIALS_SECRET_KEY} (RBAC: get secrets)`,
        );
      throw err;
    }
    const values = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
    );
    const snapshot = { config: { ...this.config(), ...values }, secrets: Object.values(values) };
    this.cached = { at: Date.now(), snapshot };
    return snapshot;
  }
}
