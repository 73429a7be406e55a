// Test helpers: per-test temp dirs and a fetchChunk backed by real local files (a double
// across the FetchChunk interface, never of the cache or reader under test).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FetchChunk } from '../src/index.js';

/** A fresh temp dir removed after the test (registered before anything that uses it closes). */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'wh-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real file of random bytes. */
export function makeFile(dir: string, name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

export interface FileSource {
  fetchChunk: FetchChunk;
  /** Every call, in order. */
  calls: Array<{ file: string; version: string; index: number }>;
  /** Indices whose signal was aborted. */
  aborted: number[];
  /** Maps a file name to its path on disk (edit it to simulate host changes). */
  files: Map<string, string>;
  offline: boolean;
  /** Extra latency per call (ms), or a function of the index. */
  delay: number | ((index: number) => number);
}

/** Serves chunks by reading the named local files, with a request counter. */
export function fileSource(chunkSize: number): FileSource {
  const src: FileSource = {
    calls: [],
    aborted: [],
    files: new Map(),
    offline: false,
    delay: 0,
    fetchChunk: async (file, version, index, signal) => {
      src.calls.push({ file, version, index });
      if (src.offline) throw Object.assign(new Error('host unreachable'), { code: 'EHOSTDOWN' });
      const ms = typeof src.delay === 'function' ? src.delay(index) : src.delay;
      if (ms > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              src.aborted.push(index);
              reject(signal.reason);
            },
            { once: true },
          );
        });
      }
      const path = src.files.get(file);
      if (path === undefined) throw new Error(`no such file ${file}`);
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(chunkSize);
        const { bytesRead } = await fh.read(buf, 0, chunkSize, index * chunkSize);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
  };
  return src;
}

/** A chunk-sized buffer whose bytes identify (tag, index). */
export function chunk(size: number, tag: number, index: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE(((tag << 20) ^ index ^ (i * 2654435761)) >>> 0, i);
  return b;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
