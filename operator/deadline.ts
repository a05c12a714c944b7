// A deadline for one outgoing call, joined with the caller's abort signal (leadership lost, shutdown).
//
// Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node 20 holds the sources of `any` weakly and the timeout
// signal's timer holds its signal weakly too, so once nothing else refers to the timeout signal a garbage collection
// takes it and the deadline never fires — a call to a peer that accepts and never answers then hangs for ever (seen as
// a FlinkDeployment whose reconcile never finished). Here the timer and the controller refer to each other strongly.

export interface Deadline {
  readonly signal: AbortSignal;
  /** Stops the timer and detaches from the parent; call it once the call's answer has been read. */
  release(): void;
}

export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no complete answer within ${ms} ms`, 'TimeoutError')),
    ms,
  );
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Runs `call` under a deadline and releases it however the call ends. */
export async function withDeadline<T>(
  ms: number,
  parent: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const d = deadline(ms, parent);
  try {
    return await call(d.signal);
  } finally {
    d.release();
  }
}
