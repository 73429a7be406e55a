/** The ring is released after this long without a batch. */
export const IDLE_DROP_MS = 2000;

interface Region {
  readonly start: number;
  readonly end: number;
}

/**
 * Shared memory for handing chunk bytes to the L2 writer thread. A chunk crosses
 * postMessage without a copy only as a view of a SharedArrayBuffer, and allocating one per
 * chunk cost ~100-170 us for 256 KiB (zeroed, slow path) against ~12 us to copy into memory
 * that exists: the largest CPU item of a cold sequential read after the transport.
 *
 * One ring of `ringBytes` (the writer's backlog bound, so it never runs out while puts
 * respect that bound); each batch takes the next contiguous region and gives it back when
 * the writer reports that batch done. The writer handles messages in order, so regions come
 * back first-in first-out. A batch that does not fit gets memory of its own. The ring is
 * dropped after {@link IDLE_DROP_MS} without batches, so an idle mount holds none of it.
 */
export class SharedSlabs {
  readonly ringBytes: number;
  #ring: SharedArrayBuffer | undefined;
  /** Ring regions in flight, oldest first. */
  readonly #live: Region[] = [];
  /** Per batch in flight, oldest first: whether it holds a ring region (else memory of its own). */
  readonly #inRing: boolean[] = [];
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(ringBytes: number) {
    this.ringBytes = ringBytes;
  }

  /** Copies `parts` into shared memory and returns their views, in order. Pair with one {@link release}. */
  pack(parts: readonly Uint8Array[]): Buffer[] {
    this.#armIdleDrop();
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const start = this.#place(total);
    let memory: SharedArrayBuffer;
    let at: number;
    if (start === undefined) {
      memory = new SharedArrayBuffer(total);
      at = 0;
      this.#inRing.push(false);
    } else {
      this.#ring ??= new SharedArrayBuffer(this.ringBytes);
      memory = this.#ring;
      at = start;
      this.#inRing.push(true);
      this.#live.push({ start, end: start + total });
    }
    const out: Buffer[] = [];
    for (const p of parts) {
      const view = Buffer.from(memory, at, p.byteLength);
      view.set(p);
      out.push(view);
      at += p.byteLength;
    }
    return out;
  }

  /** The oldest packed batch is done with: its region may be reused. */
  release(): void {
    if (this.#inRing.shift() === true) this.#live.shift();
    if (this.#inRing.length === 0) this.#armIdleDrop();
  }

  /** Forgets all memory (the writer is gone). */
  clear(): void {
    this.#inRing.length = 0;
    this.#live.length = 0;
    this.#ring = undefined;
    clearTimeout(this.#idleTimer);
  }

  /** Where a region of `size` bytes fits in the ring now, if it does. */
  #place(size: number): number | undefined {
    if (size > this.ringBytes) return undefined;
    const live = this.#live;
    if (live.length === 0) return 0;
    const oldest = live[0]!;
    const newest = live[live.length - 1]!;
    if (newest.start >= oldest.start) {
      // Not wrapped: free space after the newest region, then before the oldest.
      if (newest.end + size <= this.ringBytes) return newest.end;
      if (size <= oldest.start) return 0;
      return undefined;
    }
    // Wrapped: the only free space is between the newest and the oldest region.
    return newest.end + size <= oldest.start ? newest.end : undefined;
  }

  #armIdleDrop(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#inRing.length === 0) this.#ring = undefined;
    }, IDLE_DROP_MS);
    this.#idleTimer.unref();
  }
}
