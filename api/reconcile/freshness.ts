// When a cached copy of a resource may be trusted, as controller-runtime's cached client is trusted: always, except
// right after our own write (until the watch delivers it) and after a conflict (read live once; the version that
// read finds is then the floor the cache must reach). Pure bookkeeping: the reconciler does the reads.

/** etcd revisions, compared as numbers; undefined for anything else (then the copy is not trusted). */
export function revision(resourceVersion: string | undefined): bigint | undefined {
  return resourceVersion && /^\d+$/.test(resourceVersion) ? BigInt(resourceVersion) : undefined;
}

export class CacheFreshness {
  /** Per resource: the revision the cache must reach, or 'live' for "read live next time". */
  private readonly floors = new Map<string, bigint | 'live'>();

  /** Whether a cached copy at `resourceVersion` may be used instead of a live read. */
  trust(key: string, resourceVersion: string | undefined): boolean {
    const floor = this.floors.get(key);
    if (floor === undefined) return true;
    const version = revision(resourceVersion);
    if (floor === 'live' || version === undefined || version < floor) return false;
    this.floors.delete(key); // the watch has caught up
    return true;
  }

  /** Our own write, or a live read after a conflict: the cache is behind until it holds this revision. */
  wrote(key: string, resourceVersion: string | undefined): void {
    const version = revision(resourceVersion);
    if (version !== undefined) this.floors.set(key, version);
  }

  /** A live read found `resourceVersion`: after a conflict, that is the floor; otherwise nothing changes. */
  readLive(key: string, resourceVersion: string | undefined): void {
    if (this.floors.get(key) === 'live') this.wrote(key, resourceVersion);
  }

  conflicted(key: string): void {
    this.floors.set(key, 'live');
  }

  forget(key: string): void {
    this.floors.delete(key);
  }

  /** Resources with a floor (for tests: a resource must not stay here once the cache caught up). */
  get size(): number {
    return this.floors.size;
  }
}
