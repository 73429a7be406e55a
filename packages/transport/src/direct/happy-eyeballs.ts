/**
 * Dials several addresses, staggered (RFC 8305 style): attempt i starts `staggerMs` after
 * attempt i-1, or at once when every earlier attempt has failed. The first success wins; every
 * other attempt is cancelled and any late success is disposed of. Rejects with the last
 * error when all fail, or with the abort reason when `signal` fires.
 */
export function raceDial<A, T>(
  targets: readonly A[],
  attempt: (target: A, signal: AbortSignal) => Promise<T>,
  dispose: (value: T) => void,
  signal: AbortSignal,
  staggerMs = 250,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = new AbortController();
    let next = 0;
    let running = 0;
    let done = false;
    let lastError: unknown = new Error('no address to dial');
    let timer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      cancel.abort();
    };
    const onAbort = (): void => {
      if (done) return;
      finish();
      reject(signal.reason);
    };
    const launch = (): void => {
      clearTimeout(timer);
      if (done || next >= targets.length) return;
      const target = targets[next++]!;
      running++;
      attempt(target, cancel.signal).then(
        (value) => {
          running--;
          if (done) return dispose(value);
          finish();
          resolve(value);
        },
        (err: unknown) => {
          running--;
          if (done) return;
          lastError = err;
          if (next < targets.length) launch();
          else if (running === 0) {
            finish();
            reject(lastError);
          }
        },
      );
      if (next < targets.length) timer = setTimeout(launch, staggerMs);
    };

    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (targets.length === 0) {
      finish();
      return reject(lastError);
    }
    launch();
  });
}
