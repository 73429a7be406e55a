import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Whole-file copies of remote files, as plain files in a directory: what FUSE passthrough
 * hands the kernel, so a re-read of a file the mount has read once runs at local-disk speed
 * (the kernel reads the copy itself, with its own page cache and large folios), where the
 * mount's own page cache tops out at ~9 GB/s on order-0 folios and a random read from L2 costs
 * a SQLite blob read (docs/bench/peer-mounts.md, eleventh session).
 *
 * A copy is recorded while a file streams through the cache from its start (`record`, then
 * every chunk `put` writes into it instead of into L2) and appears under its name only when
 * every chunk is in: a name is always a complete copy of one (file, version). Beside it, a
 * `.meta` file keeps its size, chunk size and the boot it was written in, and — computed after
 * the stream, reading the copy back, so the cold read does not pay for it (~4 % of it) — one
 * crc32 per chunk. Copies are not synced to disk; one written before the last reboot is checked
 * against its crc32s before it is served again (a crash may have left holes; without crc32s it
 * cannot be, and goes), and `verify` checks them all.
 * Several processes may share the directory: names are atomic renames, lookups stat the disk.
 */
export interface FileCopiesOptions {
  readonly dir: string;
  /** Bound of all copies' bytes. */
  readonly maxBytes: number;
  /** Files smaller than this are not copied (their re-reads are cheap already). Default 1 MiB. */
  readonly minFileBytes?: number;
  /** A recording that got no chunk for this long is given up (its chunks salvaged). Default 30 s. */
  readonly stallMs?: number;
}

/** What `stats()` reports. */
export interface FileCopyStats {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  readonly maxBytes: number;
  /** Copies completed by this process. */
  readonly recorded: number;
  /** Recordings given up (invalidated, a chunk never came, write error). */
  readonly abandoned: number;
  /** Opens answered with a copy. */
  readonly served: number;
  /** Chunk-cache misses served from a copy (readers other than FUSE passthrough). */
  readonly chunkReads: number;
  readonly evictions: number;
  /** Copies dropped because their crc32s did not match. */
  readonly corruptDropped: number;
}

interface Entry {
  bytes: number;
  lastUsed: number;
  /** Open for chunk reads (readChunk), with the chunk size its meta gives; closed when it goes. */
  reader?: { fd: number; chunkSize: number };
  /** true: served; false: must be checked first (written before this boot). */
  trusted: boolean;
  checking?: Promise<void>;
}

interface Recording {
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly chunkSize: number;
  readonly chunks: number;
  readonly tmp: string;
  readonly written: Uint8Array;
  writtenCount: number;
  fh: Promise<FileHandle>;
  /** The file's descriptor while it is open for chunk reads (readChunk of a recording). */
  fd?: number;
  /** Chunks whose write has completed (1): readable from the file before the copy is named. */
  readonly onDisk: Uint8Array;
  /** Writes in flight. Nothing else holds a written chunk: the bytes go when their write is done. */
  readonly writes: Set<Promise<void>>;
  failed: boolean;
  lastWrite: number;
  /** Where the chunks of a recording given up for stalling go (L2), read back from the file. */
  readonly salvage: ((index: number, bytes: Uint8Array) => Promise<void> | void) | undefined;
  /** Set once every chunk is in: settles when the copy has its name (or was given up). */
  finishing?: Promise<void>;
  /** Contiguous chunks not yet handed to a write (see WRITE_RUN_CHUNKS). */
  run?: { at: number; parts: Uint8Array[]; bytes: number; first: number };
}

/**
 * Contiguous chunks go to the file in one `writev` of up to this many, gathered within one turn
 * of the event loop: handing a write to the thread pool costs the reader's thread more than its
 * size suggests on a busy 2-core machine (lock and wake-ups). Cold pass of `cache-e2e.ts
 * --copies`, main-thread profile: 309 ms per GiB in 4,096 writes, 157 ms in 1,024 writevs;
 * cold 490 -> 536 MB/s (medians of three, alternating; within this machine's noise).
 */
const WRITE_RUN_CHUNKS = 4;

/** Hands the gathered run of `rec` to a write. */
function flushRun(rec: Recording): void {
  const run = rec.run;
  if (run === undefined) return;
  rec.run = undefined;
  const w = rec.fh
    .then((fh) => fh.writev(run.parts, run.at))
    .then(
      () => {
        rec.onDisk.fill(1, run.first, run.first + run.parts.length);
      },
      () => {
        rec.failed = true;
      },
    );
  rec.writes.add(w);
  void w.finally(() => rec.writes.delete(w));
}

const META_VERSION = 1;
/** How long a stat that found no copy (of another process) is believed. */
const ABSENT_FOR_MS = 5000;
/** Names and absences remembered at most (then forgotten all at once). */
const MAX_REMEMBERED = 4096;

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The copy's name: it depends on nothing but the file's identity and version. */
export function copyName(file: string, version: string): string {
  return createHash('sha256').update(file).update('\u0000').update(version).digest('hex').slice(0, 40);
}

export class FileCopies {
  readonly dir: string;
  readonly maxBytes: number;
  readonly minFileBytes: number;
  readonly stallMs: number;
  readonly #boot = bootId();
  readonly #entries = new Map<string, Entry>();
  readonly #recordings = new Map<string, Recording>();
  readonly #names = new Map<string, string>();
  /** Names a stat found no copy for, and when. */
  readonly #absent = new Map<string, number>();
  #bytes = 0;
  #reserved = 0;
  /** When the directory was last counted (#rescan). */
  #scannedAt = 0;
  /** Last-use stamps: wall-clock ms, strictly increasing within this process (LRU order). */
  #clock = 0;
  #closed = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #s = { recorded: 0, abandoned: 0, served: 0, chunkReads: 0, evictions: 0, corruptDropped: 0 };

  private constructor(o: FileCopiesOptions) {
    this.dir = o.dir;
    this.maxBytes = o.maxBytes;
    this.minFileBytes = o.minFileBytes ?? 1024 * 1024;
    this.stallMs = o.stallMs ?? 30_000;
  }

  /** Opens (creates) the directory and indexes what is there; leftovers of killed recordings go. */
  static async open(o: FileCopiesOptions): Promise<FileCopies> {
    const c = new FileCopies(o);
    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(o.dir)) {
      const path = join(o.dir, f);
      if (f.endsWith('.tmp')) {
        // `<name>.<pid>.tmp` (a copy) or `<name>.meta.<pid>.tmp`: a live process may still be
        // writing it; only a dead one's are leftovers.
        const pid = Number(f.split('.').at(-2));
        if (!Number.isInteger(pid) || !alive(pid)) await rm(path, { force: true });
        continue;
      }
      if (!f.endsWith('.copy')) continue;
      const st = await stat(path).catch(() => undefined);
      if (st === undefined) continue;
      c.#add(f.slice(0, -5), st.size, st.mtimeMs, false);
    }
    return c;
  }

  #now(): number {
    this.#clock = Math.max(this.#clock + 0.001, Date.now());
    return this.#clock;
  }

  /**
   * copyName, remembered: every chunk stored while a file is recorded and every open look a
   * name up, and the hash costs an open ~70-90 µs after a few idle ms (~3 µs when warm).
   */
  #name(file: string, version: string): string {
    const key = `${version}\u0000${file}`;
    let name = this.#names.get(key);
    if (name === undefined) {
      name = copyName(file, version);
      if (this.#names.size >= MAX_REMEMBERED) this.#names.clear();
      this.#names.set(key, name);
    }
    return name;
  }

  #add(name: string, bytes: number, lastUsed: number, trusted: boolean): void {
    this.#absent.delete(name);
    const old = this.#entries.get(name);
    if (old !== undefined) {
      this.#bytes -= old.bytes;
      closeReader(old);
    }
    this.#entries.set(name, { bytes, lastUsed, trusted });
    this.#bytes += bytes;
  }

  #paths(name: string): { copy: string; meta: string } {
    return { copy: join(this.dir, `${name}.copy`), meta: join(this.dir, `${name}.meta`) };
  }

  /**
   * The path of a complete copy of `file` at `version` with `size` bytes, or undefined.
   * Synchronous (an open waits for it): one stat when this process has not seen the name.
   */
  lookup(file: string, version: string, size: number): string | undefined {
    if (this.#closed || size < this.minFileBytes) return undefined;
    return this.#lookupName(this.#name(file, version), size);
  }

  #lookupName(name: string, size: number, count = true): string | undefined {
    const { copy } = this.#paths(name);
    let e = this.#entries.get(name);
    if (e === undefined) {
      // Written by another process sharing the directory? Not asked again for ABSENT_FOR_MS
      // (a stat costs an open ~60 µs after idle; a copy missed meanwhile is read as chunks).
      const absentSince = this.#absent.get(name);
      if (absentSince !== undefined && Date.now() - absentSince < ABSENT_FOR_MS) return undefined;
      const st = statSync(copy, { throwIfNoEntry: false });
      if (st === undefined) {
        if (this.#absent.size >= MAX_REMEMBERED) this.#absent.clear();
        this.#absent.set(name, Date.now());
        return undefined;
      }
      this.#add(name, st.size, this.#now(), false);
      e = this.#entries.get(name)!;
    }
    if (e.bytes !== size || !this.#trusted(name, e)) return undefined;
    if (count) {
      e.lastUsed = this.#now();
      this.#s.served++;
    }
    return copy;
  }

  /**
   * Whether `lookup` would find a copy, without counting it as served: for deciding ahead of an
   * open (a listing need not fetch the head of a file the kernel will read from its copy).
   */
  has(file: string, version: string, size: number): boolean {
    if (this.#closed || size < this.minFileBytes) return false;
    return this.#lookupName(this.#name(file, version), size, false) !== undefined;
  }

  /**
   * As `lookup`, but a copy whose last chunk is in and that is only waiting for its writes
   * (a reader opening the file again the moment the stream ended: `dd` after `dd`) is waited for.
   */
  lookupSettled(
    file: string,
    version: string,
    size: number,
  ): string | undefined | Promise<string | undefined> {
    // Synchronous unless a copy is being named: an open's reply waits for nothing else.
    if (this.#closed || size < this.minFileBytes) return undefined;
    const name = this.#name(file, version);
    const finishing = this.#recordings.get(name)?.finishing;
    if (finishing !== undefined)
      return finishing.then(() => (this.#closed ? undefined : this.#lookupName(name, size)));
    return this.#lookupName(name, size);
  }

  /**
   * Bytes `[start, end)` of chunk `index` of a complete copy (end clipped to the file), for
   * readers that are not FUSE passthrough: the chunk cache takes its misses here before the
   * network, so a streamed file (whose chunks went to the copy, not to L2) stays cached for
   * them too. Undefined without a trusted copy. Synchronous, like the L2 read it stands in for;
   * not checked per read (passthrough reads are not either): crc32s at write, after a reboot, by verify.
   */
  readChunk(
    file: string,
    version: string,
    index: number,
    start = 0,
    end = Number.POSITIVE_INFINITY,
  ): Uint8Array | undefined {
    // Every miss of both tiers asks: no hash when there is nothing to find.
    if (this.#closed || (this.#entries.size === 0 && this.#recordings.size === 0)) return undefined;
    const name = this.#name(file, version);
    const e = this.#entries.get(name);
    if (e === undefined) return this.#readRecorded(name, index, start, end);
    if (!this.#trusted(name, e)) return undefined;
    try {
      if (e.reader === undefined) {
        const m = parseMeta(readFileSync(this.#paths(name).meta, 'utf8'));
        if (m === undefined || m.size !== e.bytes) return undefined;
        e.reader = { fd: openSync(this.#paths(name).copy, 'r'), chunkSize: m.chunkSize };
      }
      const out = this.#readAt(e.reader.fd, e.reader.chunkSize, e.bytes, index, start, end);
      if (out !== undefined) e.lastUsed = this.#now();
      return out;
    } catch {
      return undefined;
    }
  }

  /** Bytes `[start, end)` of chunk `index` of a file of `size` bytes open at `fd`, read whole or not at all. */
  #readAt(
    fd: number,
    chunkSize: number,
    size: number,
    index: number,
    start: number,
    end: number,
  ): Uint8Array | undefined {
    const to = Math.min(end, chunkSize, size - index * chunkSize);
    if (index < 0 || start < 0 || to < start) return undefined;
    const out = Buffer.allocUnsafe(to - start);
    if (readSync(fd, out, 0, out.byteLength, index * chunkSize + start) !== out.byteLength) return undefined;
    this.#s.chunkReads++;
    return out;
  }

  /** True when a complete copy of `file`@`version` that may be served is known to this process. */
  hasCopy(file: string, version: string): boolean {
    if (this.#entries.size === 0) return false;
    const name = this.#name(file, version);
    const e = this.#entries.get(name);
    return e !== undefined && this.#trusted(name, e);
  }

  /** True while `file`@`version` is being recorded: its chunks go to the copy, not to L2. */
  isRecording(file: string, version: string): boolean {
    return this.#recordings.size > 0 && this.#recordings.has(this.#name(file, version));
  }

  /**
   * Starts recording `file`@`version` (`size` bytes in chunks of `chunkSize`) unless it is
   * copied or being copied already, too small, or too big for the bound. `fill(i)` gives chunk
   * `i` from the cache, for chunks that arrived before the recording started (returns undefined
   * when it has not got it). `salvage(i, bytes)` takes the chunks of a recording given up because
   * its reader stopped (a video watched halfway): they were written here instead of into L2, and
   * must not be lost with the partial file.
   */
  record(
    file: string,
    version: string,
    size: number,
    chunkSize: number,
    fill: (index: number) => Uint8Array | undefined,
    salvage?: (index: number, bytes: Uint8Array) => Promise<void> | void,
  ): boolean {
    if (this.#closed || size < this.minFileBytes || size > this.maxBytes / 2) return false;
    const name = this.#name(file, version);
    if (this.#recordings.has(name) || this.#entries.has(name)) return false;
    this.#makeRoom(size);
    const chunks = Math.ceil(size / chunkSize);
    const tmp = join(this.dir, `${name}.${process.pid}.tmp`);
    const fh = open(tmp, 'w+', 0o600);
    const rec: Recording = {
      file,
      name,
      size,
      chunkSize,
      chunks,
      tmp,
      written: new Uint8Array(chunks),
      onDisk: new Uint8Array(chunks),
      writtenCount: 0,
      fh,
      writes: new Set(),
      failed: false,
      lastWrite: Date.now(),
      salvage,
    };
    fh.then(
      (h) => {
        if (this.#recordings.get(name) === rec) rec.fd = h.fd;
      },
      () => {
        rec.failed = true;
      },
    );
    this.#recordings.set(name, rec);
    this.#reserved += size;
    this.#armStallCheck();
    // What came before the recording (the open's prefetch, the first reads).
    for (let i = 0; i < chunks; i++) {
      const bytes = fill(i);
      if (bytes !== undefined) this.#write(rec, i, bytes);
    }
    return true;
  }

  /**
   * Writes chunk `index` of a file being recorded; false when it is not being recorded (the
   * caller stores the chunk elsewhere).
   */
  write(file: string, version: string, index: number, bytes: Uint8Array): boolean {
    // Called for every chunk stored: no hash when nothing is being recorded.
    if (this.#recordings.size === 0) return false;
    const rec = this.#recordings.get(this.#name(file, version));
    if (rec === undefined) return false;
    this.#write(rec, index, bytes);
    return true;
  }

  #write(rec: Recording, index: number, bytes: Uint8Array): void {
    if (index < 0 || index >= rec.chunks || rec.written[index] === 1) return;
    const expected = Math.min(rec.chunkSize, rec.size - index * rec.chunkSize);
    if (bytes.byteLength !== expected) return;
    rec.written[index] = 1;
    rec.writtenCount++;
    rec.lastWrite = Date.now();
    const at = index * rec.chunkSize;
    const run = rec.run;
    if (run !== undefined && run.at + run.bytes === at && run.parts.length < WRITE_RUN_CHUNKS) {
      run.parts.push(bytes);
      run.bytes += bytes.byteLength;
      if (run.parts.length === WRITE_RUN_CHUNKS) flushRun(rec);
    } else {
      flushRun(rec);
      rec.run = { at, parts: [bytes], bytes: bytes.byteLength, first: index };
      setImmediate(() => flushRun(rec));
    }
    if (rec.writtenCount === rec.chunks) {
      flushRun(rec);
      rec.finishing = this.#finish(rec);
    }
  }

  async #finish(rec: Recording): Promise<void> {
    await settled(rec);
    // Still listed while it is being named: an open meanwhile waits for it (lookupSettled).
    if (this.#recordings.get(rec.name) !== rec) return;
    const { copy, meta } = this.#paths(rec.name);
    let ok = false;
    try {
      if (rec.failed) throw new Error('write failed');
      rec.fd = undefined;
      await (await rec.fh).close();
      // Meta first: a copy is never visible without the checks it is judged by.
      await writeMeta(meta, { v: META_VERSION, size: rec.size, chunkSize: rec.chunkSize, boot: this.#boot });
      await rename(rec.tmp, copy);
      ok = true;
    } catch {
      await rm(rec.tmp, { force: true });
      await rm(`${meta}.${process.pid}.tmp`, { force: true });
    }
    if (this.#recordings.get(rec.name) !== rec) {
      // Given up meanwhile (invalidated, closed): the name goes again.
      if (ok) await rm(copy, { force: true }).then(() => rm(meta, { force: true }));
      return;
    }
    this.#recordings.delete(rec.name);
    this.#reserved -= rec.size;
    if (ok) {
      this.#add(rec.name, rec.size, this.#now(), true);
      this.#s.recorded++;
      this.#background = this.#background
        .then(() => this.#checksum(rec.name))
        .then(
          () => {},
          () => {},
        );
    } else this.#s.abandoned++;
  }

  /** Work after a copy's stream (its crc32s), one at a time; `idle()` waits for it. */
  #background: Promise<void> = Promise.resolve();

  /** Resolves when no copy is being named or checksummed. */
  async idle(): Promise<void> {
    await Promise.all([...this.#recordings.values()].map((r) => r.finishing));
    await this.#background;
  }

  /**
   * A chunk of a copy still being written whose write has completed (L1 lets such chunks go
   * once the reader has passed them: a re-read, also with the host gone, comes from here).
   */
  #readRecorded(name: string, index: number, start: number, end: number): Uint8Array | undefined {
    const rec = this.#recordings.get(name);
    const fd = rec?.fd;
    if (rec === undefined || fd === undefined || rec.onDisk[index] !== 1) return undefined;
    try {
      return this.#readAt(fd, rec.chunkSize, rec.size, index, start, end);
    } catch {
      return undefined;
    }
  }

  /**
   * Reads a copy back and stores one crc32 per chunk in its meta; false when it cannot (gone,
   * short). The reads are async (libuv's pool): the mount keeps answering between chunks.
   */
  async #checksum(name: string): Promise<boolean> {
    const { copy, meta } = this.#paths(name);
    const m = parseMeta(await readFile(meta, 'utf8'));
    const crcs = m === undefined ? undefined : await crcsOf(copy, m);
    // Removed meanwhile (clear, eviction): writing the meta would leave it behind alone.
    if (m === undefined || crcs === undefined || !this.#entries.has(name)) return false;
    await writeMeta(meta, { ...m, crc: crcs.toString('base64') });
    return true;
  }

  /** Gives up every recording. */
  abandonAll(): void {
    for (const rec of [...this.#recordings.values()]) this.#drop(rec);
  }

  /** Gives up the recordings of `file` (it changed on the host). */
  abandon(file: string): void {
    for (const rec of [...this.#recordings.values()]) if (rec.file === file) this.#drop(rec);
  }

  /** Gives up a recording; with `salvage`, its chunks are handed back (read from the partial file) first. */
  #drop(rec: Recording, salvage = false): void {
    if (this.#recordings.get(rec.name) !== rec) return;
    this.#recordings.delete(rec.name);
    rec.fd = undefined;
    this.#reserved -= rec.size;
    this.#s.abandoned++;
    const done = settled(rec)
      .then(async () => {
        const fh = await rec.fh;
        try {
          if (salvage && rec.salvage !== undefined && !rec.failed) await this.#salvage(rec, fh);
        } finally {
          await fh.close();
        }
      })
      .catch(() => {})
      .finally(() => rm(rec.tmp, { force: true }));
    this.#background = this.#background.then(() => done);
  }

  async #salvage(rec: Recording, fh: FileHandle): Promise<void> {
    for (let i = 0; i < rec.chunks && !this.#closed; i++) {
      if (rec.written[i] !== 1) continue;
      const len = Math.min(rec.chunkSize, rec.size - i * rec.chunkSize);
      const bytes = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(bytes, 0, len, i * rec.chunkSize);
      if (bytesRead === len) await rec.salvage!(i, bytes);
    }
  }

  #armStallCheck(): void {
    if (this.#stallTimer !== undefined) return;
    this.#stallTimer = setInterval(() => {
      const now = Date.now();
      for (const rec of [...this.#recordings.values()])
        if (now - rec.lastWrite > this.stallMs && rec.finishing === undefined) this.#drop(rec, true);
      if (this.#recordings.size === 0) {
        clearInterval(this.#stallTimer);
        this.#stallTimer = undefined;
      }
    }, this.stallMs / 3);
    this.#stallTimer.unref();
  }

  /** Evicts least recently used copies until `incoming` more bytes fit the bound. */
  #makeRoom(incoming: number): void {
    // Other processes sharing the directory add and remove copies too: count what is there —
    // when this process' own count comes near the bound, or it has not looked for 10 s (a
    // readdir per file recorded would cost a tree of many big files O(n²)).
    const now = Date.now();
    if (this.#bytes + this.#reserved + incoming > 0.8 * this.maxBytes || now - this.#scannedAt > 10_000) {
      this.#scannedAt = now;
      this.#rescan();
    }
    if (this.#bytes + this.#reserved + incoming <= this.maxBytes) return;
    const byAge = [...this.#entries].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [name, e] of byAge) {
      if (this.#bytes + this.#reserved + incoming <= this.maxBytes) break;
      this.#remove(name, e);
      this.#s.evictions++;
    }
  }

  /**
   * Brings the index in line with the directory: copies named by other processes are counted
   * (their age is their mtime), copies they removed are forgotten. Synchronous: one readdir and
   * one stat per new name, when a recording starts.
   */
  #rescan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const onDisk = new Set<string>();
    for (const f of names) {
      if (!f.endsWith('.copy')) continue;
      const name = f.slice(0, -5);
      onDisk.add(name);
      if (this.#entries.has(name)) continue;
      const st = statSync(join(this.dir, f), { throwIfNoEntry: false });
      if (st !== undefined) this.#add(name, st.size, st.mtimeMs, false);
    }
    for (const [name, e] of [...this.#entries])
      if (!onDisk.has(name)) {
        this.#entries.delete(name);
        this.#bytes -= e.bytes;
        closeReader(e);
      }
  }

  #remove(name: string, e: Entry): void {
    this.#entries.delete(name);
    this.#bytes -= e.bytes;
    closeReader(e);
    const { copy, meta } = this.#paths(name);
    // An open file keeps reading what it has (unlink keeps the data while it is open).
    void rm(copy, { force: true }).then(() => rm(meta, { force: true }));
  }

  /**
   * Whether a copy may be served. Written in this boot (by this process or another): its bytes
   * are whole. Otherwise a crash may have left holes: it is checked first, in the background.
   */
  #trusted(name: string, e: Entry): boolean {
    if (!e.trusted) e.trusted = this.#metaBoot(name) === this.#boot && this.#boot !== '';
    if (!e.trusted)
      e.checking ??= this.#check(name).then(() => {
        const now = this.#entries.get(name);
        if (now !== undefined) now.checking = undefined;
      });
    return e.trusted;
  }

  #metaBoot(name: string): unknown {
    try {
      return parseMeta(readFileSync(this.#paths(name).meta, 'utf8'))?.boot;
    } catch {
      return undefined;
    }
  }

  /**
   * Checks a copy against its crc32s; a good one is trusted (and its meta moved to this boot), a
   * bad one removed. One of this boot whose crc32s are not computed yet gets them now.
   */
  async #check(name: string): Promise<boolean> {
    const { copy, meta } = this.#paths(name);
    let ok = false;
    try {
      const m = parseMeta(await readFile(meta, 'utf8'));
      if (m !== undefined && m.crc === undefined && m.boot === this.#boot && this.#boot !== '')
        ok = await this.#checksum(name);
      else if (m?.crc !== undefined) {
        ok = (await crcsOf(copy, m))?.equals(Buffer.from(m.crc, 'base64')) === true;
        if (ok && m.boot !== this.#boot) await writeMeta(meta, { ...m, boot: this.#boot });
      }
    } catch {
      ok = false;
    }
    const e = this.#entries.get(name);
    if (ok) {
      if (e !== undefined) e.trusted = true;
    } else if (e !== undefined) {
      this.#s.corruptDropped++;
      this.#remove(name, e);
    }
    return ok;
  }

  /** Checks every copy (`cache verify`); returns how many were checked and how many were bad. */
  async verify(): Promise<{ checked: number; corrupt: number }> {
    let checked = 0;
    let corrupt = 0;
    for (const name of [...this.#entries.keys()]) {
      checked++;
      if (!(await this.#check(name))) corrupt++;
    }
    return { checked, corrupt };
  }

  /** Removes every copy and recording. */
  async clear(): Promise<void> {
    for (const rec of [...this.#recordings.values()]) this.#drop(rec);
    for (const [name, e] of [...this.#entries]) this.#remove(name, e);
    // A checksum pass that was writing a meta as its copy went: its file goes with the rest.
    await this.#background;
    // Copies other processes made that this one never looked up.
    for (const f of await readdir(this.dir).catch(() => [] as string[]))
      if (f.endsWith('.copy') || f.endsWith('.meta')) await rm(join(this.dir, f), { force: true });
  }

  stats(): FileCopyStats {
    return {
      dir: this.dir,
      files: this.#entries.size,
      bytes: this.#bytes,
      maxBytes: this.maxBytes,
      ...this.#s,
    };
  }

  /** Stops recording (unfinished copies are removed); copies stay. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
    for (const e of this.#entries.values()) closeReader(e);
    const done = [...this.#recordings.values()].map(settled);
    for (const rec of [...this.#recordings.values()]) this.#drop(rec);
    await Promise.all(done);
  }
}

function closeReader(e: Entry): void {
  if (e.reader === undefined) return;
  try {
    closeSync(e.reader.fd);
  } catch {}
  e.reader = undefined;
}

/** Resolves when a recording has no write in flight (and its file is open, or failed to). */
async function settled(rec: Recording): Promise<void> {
  flushRun(rec);
  await rec.fh.catch(() => {});
  while (rec.writes.size > 0) await Promise.all(rec.writes);
}

interface CopyMeta {
  v: number;
  size: number;
  chunkSize: number;
  boot?: unknown;
  /** base64 of one little-endian crc32 per chunk; absent until computed. */
  crc?: string;
}

/** Writes a meta file whole or not at all (a temp file renamed over it). */
async function writeMeta(meta: string, m: CopyMeta): Promise<void> {
  await writeFile(`${meta}.${process.pid}.tmp`, JSON.stringify(m));
  await rename(`${meta}.${process.pid}.tmp`, meta);
}

/**
 * One little-endian crc32 per chunk of a copy, read back (async reads: the mount keeps
 * answering between chunks); undefined when the file is not `m.size` bytes.
 */
async function crcsOf(copy: string, m: CopyMeta): Promise<Buffer | undefined> {
  const chunks = Math.ceil(m.size / m.chunkSize);
  const crcs = Buffer.alloc(chunks * 4);
  const fh = await open(copy, 'r');
  try {
    if ((await fh.stat()).size !== m.size) return undefined;
    const buf = Buffer.allocUnsafe(m.chunkSize);
    for (let i = 0; i < chunks; i++) {
      const len = Math.min(m.chunkSize, m.size - i * m.chunkSize);
      const { bytesRead } = await fh.read(buf, 0, len, i * m.chunkSize);
      if (bytesRead !== len) return undefined;
      crcs.writeUInt32LE(crc32(buf.subarray(0, len)), i * 4);
    }
  } finally {
    await fh.close();
  }
  return crcs;
}

/** A meta file's content, or undefined when it is not one this version wrote. */
function parseMeta(text: string): CopyMeta | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (
    o.v !== META_VERSION ||
    typeof o.size !== 'number' ||
    !Number.isSafeInteger(o.size) ||
    o.size < 0 ||
    typeof o.chunkSize !== 'number' ||
    !Number.isSafeInteger(o.chunkSize) ||
    o.chunkSize <= 0 ||
    (o.crc !== undefined && typeof o.crc !== 'string')
  )
    return undefined;
  return o as unknown as CopyMeta;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
