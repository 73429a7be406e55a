import { z } from 'zod';
import { packBody, unpackBody, unpackBodyChecked } from './body-codec.js';
import { isEntryName } from './entry-name.js';
import { ProtocolError } from './protocol-error.js';
import { isReaddirResult, isWireStat } from './stat-check.js';
import { isIntIn, isRecord, isU53 } from './value-checks.js';

/**
 * The remote file-system operations carried in REQUEST frames. Paths are POSIX-style and
 * relative to the share root ('' or '/' is the root); the host re-validates every one.
 */
export const FsOp = {
  STAT: 1,
  READDIR: 2,
  READ: 3,
  READLINK: 4,
  STATFS: 5,
  // Reserved for read-write shares (the host answers EROFS until they are enabled).
  WRITE: 16,
  CREATE: 17,
  MKDIR: 18,
  UNLINK: 19,
  RMDIR: 20,
  RENAME: 21,
  TRUNCATE: 22,
  SETATTR: 23,
  SYMLINK: 24,
} as const;
export type FsOp = (typeof FsOp)[keyof typeof FsOp];
const OPS = new Map<number, FsOp>(Object.values(FsOp).map((v) => [v, v]));

/** Longest path a peer may send (bytes, UTF-8), and longest single name. */
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;
/** Largest READ a client may ask for in one request. */
export const MAX_READ_BYTES = 1024 * 1024;
/** Largest readdir page. */
export const MAX_READDIR_PAGE = 4096;

const path = z.string().max(MAX_PATH_BYTES);
const u53 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const StatParamsSchema = z.object({ path }).strict();
export const ReaddirParamsSchema = z
  .object({ path, cursor: u53.optional(), limit: z.number().int().min(1).max(MAX_READDIR_PAGE).optional() })
  .strict();
export const ReadParamsSchema = z
  .object({
    path,
    offset: u53,
    length: z.number().int().min(0).max(MAX_READ_BYTES),
    version: z.string().max(128).optional(),
  })
  .strict();
export const ReadlinkParamsSchema = z.object({ path }).strict();
export const StatfsParamsSchema = z.object({}).strict();
export const WriteParamsSchema = z.object({ path, offset: u53, data: z.instanceof(Uint8Array) }).strict();
export const PathOnlyParamsSchema = z.object({ path }).strict();
export const RenameParamsSchema = z.object({ from: path, to: path }).strict();
export const TruncateParamsSchema = z.object({ path, size: u53 }).strict();
export const SetattrParamsSchema = z
  .object({ path, mode: z.number().int().min(0).max(0o7777).optional(), mtimeMs: z.number().optional() })
  .strict();
export const SymlinkParamsSchema = z.object({ path, target: path }).strict();

export type StatParams = z.infer<typeof StatParamsSchema>;
export type ReaddirParams = z.infer<typeof ReaddirParamsSchema>;
export type ReadParams = z.infer<typeof ReadParamsSchema>;
export type ReadlinkParams = z.infer<typeof ReadlinkParamsSchema>;
export type StatfsParams = z.infer<typeof StatfsParamsSchema>;

const PARAM_SCHEMAS = {
  [FsOp.STAT]: StatParamsSchema,
  [FsOp.READDIR]: ReaddirParamsSchema,
  [FsOp.READ]: ReadParamsSchema,
  [FsOp.READLINK]: ReadlinkParamsSchema,
  [FsOp.STATFS]: StatfsParamsSchema,
  [FsOp.WRITE]: WriteParamsSchema,
  [FsOp.CREATE]: PathOnlyParamsSchema,
  [FsOp.MKDIR]: PathOnlyParamsSchema,
  [FsOp.UNLINK]: PathOnlyParamsSchema,
  [FsOp.RMDIR]: PathOnlyParamsSchema,
  [FsOp.RENAME]: RenameParamsSchema,
  [FsOp.TRUNCATE]: TruncateParamsSchema,
  [FsOp.SETATTR]: SetattrParamsSchema,
  [FsOp.SYMLINK]: SymlinkParamsSchema,
} as const satisfies Record<FsOp, z.ZodType>;

export type FsParams<O extends FsOp> = z.infer<(typeof PARAM_SCHEMAS)[O]>;
export type FsRequest = { [O in FsOp]: { op: O; params: FsParams<O> } }[FsOp];

/** REQUEST body: one op byte, then msgpack params. */
export function encodeRequestBody<O extends FsOp>(op: O, params: FsParams<O>): Uint8Array {
  const packed = packBody(params);
  const out = new Uint8Array(1 + packed.byteLength);
  out[0] = op;
  out.set(packed, 1);
  return out;
}

/** True when `v` is exactly StatParams (StatParamsSchema, strict); see stat-check.ts for why. */
export function isStatParams(v: unknown): v is StatParams {
  if (!isRecord(v)) return false;
  for (const k in v) if (k !== 'path') return false;
  return typeof v.path === 'string' && v.path.length <= MAX_PATH_BYTES;
}

/** True when `v` is exactly ReadParams (ReadParamsSchema, strict); see stat-check.ts for why. */
export function isReadParams(v: unknown): v is ReadParams {
  if (!isRecord(v)) return false;
  let keys = 0;
  for (const k in v) {
    if (k !== 'path' && k !== 'offset' && k !== 'length' && k !== 'version') return false;
    keys++;
  }
  return (
    typeof v.path === 'string' &&
    v.path.length <= MAX_PATH_BYTES &&
    isU53(v.offset) &&
    isIntIn(v.length, MAX_READ_BYTES) &&
    (v.version === undefined
      ? keys === 3
      : typeof v.version === 'string' && v.version.length <= 128 && keys === 4)
  );
}

/**
 * Hand-written checks in front of the schemas for the requests a host decodes most. A host that
 * sat idle for a few ms runs zod's parse with cold caches: 0.13-0.18 ms for a READ's params, the
 * largest step between a request's arrival and its `pread` (docs/bench/peer-mounts.md).
 */
const FAST_PARAM_CHECKS: Partial<Record<FsOp, (v: unknown) => v is FsParams<FsOp>>> = {
  [FsOp.STAT]: isStatParams,
  [FsOp.READ]: isReadParams,
};

/** Decodes and validates a REQUEST body. Throws only ProtocolError. */
export function decodeRequestBody(body: Uint8Array): FsRequest {
  if (body.byteLength < 1) throw ProtocolError.TRUNCATED('request has no op');
  const op = OPS.get(body[0]!);
  if (op === undefined) throw ProtocolError.UNKNOWN_OP(body[0]!);
  const what = `op ${op} params`;
  const schema: z.ZodType<FsParams<FsOp>> = PARAM_SCHEMAS[op];
  const fast = FAST_PARAM_CHECKS[op];
  const params =
    fast === undefined
      ? unpackBody(body.subarray(1), schema, what)
      : unpackBodyChecked(body.subarray(1), fast, schema, what);
  return { op, params } as FsRequest;
}

/** What a node in the share is. */
export const EntryTypeSchema = z.enum(['file', 'dir', 'symlink', 'other']);
export type EntryType = z.infer<typeof EntryTypeSchema>;

/**
 * Attributes of one node. `version` changes whenever the content may have changed (host
 * derives it from inode, size and mtime); caches bind chunks to it.
 */
export const StatSchema = z
  .object({
    type: EntryTypeSchema,
    size: u53,
    mode: z.number().int().min(0).max(0o177777),
    mtimeMs: z.number(),
    ctimeMs: z.number(),
    atimeMs: z.number(),
    nlink: z.number().int().min(0).max(0xffffffff),
    ino: u53,
    version: z.string().max(128),
  })
  .strict();
export type Stat = z.infer<typeof StatSchema>;

export const DirEntrySchema = z
  .object({
    name: z
      .string()
      .refine(isEntryName, 'a name must be one path component (not "", ".", "..", no "/" or NUL)'),
    stat: StatSchema,
  })
  .strict();
export type DirEntry = z.infer<typeof DirEntrySchema>;
export const ReaddirResultSchema = z
  .object({ entries: z.array(DirEntrySchema).max(MAX_READDIR_PAGE), next: u53.optional() })
  .strict();
export type ReaddirResult = z.infer<typeof ReaddirResultSchema>;
export const ReadlinkResultSchema = z.object({ target: z.string().max(MAX_PATH_BYTES) }).strict();
export type ReadlinkResult = z.infer<typeof ReadlinkResultSchema>;
export const StatfsResultSchema = z
  .object({ bsize: u53, blocks: u53, bfree: u53, bavail: u53, files: u53, ffree: u53, namemax: u53 })
  .strict();
export type StatfsResult = z.infer<typeof StatfsResultSchema>;
export const EmptyResultSchema = z.object({}).strict();

export const RESULT_SCHEMAS = {
  [FsOp.STAT]: StatSchema,
  [FsOp.READDIR]: ReaddirResultSchema,
  [FsOp.READLINK]: ReadlinkResultSchema,
  [FsOp.STATFS]: StatfsResultSchema,
} as const;

export function encodeResultBody(value: unknown): Uint8Array {
  return packBody(value);
}
export function decodeStat(body: Uint8Array): Stat {
  return unpackBodyChecked(body, isWireStat, StatSchema, 'stat result');
}
const isPage = (v: unknown): v is ReaddirResult => isReaddirResult(v, MAX_READDIR_PAGE);
export function decodeReaddirResult(body: Uint8Array): ReaddirResult {
  return unpackBodyChecked(body, isPage, ReaddirResultSchema, 'readdir result');
}
export function decodeReadlinkResult(body: Uint8Array): ReadlinkResult {
  return unpackBody(body, ReadlinkResultSchema, 'readlink result');
}
export function decodeStatfsResult(body: Uint8Array): StatfsResult {
  return unpackBody(body, StatfsResultSchema, 'statfs result');
}

/** File-system error codes on the wire: POSIX errno names, because node:fs and FUSE both speak them. */
export const FS_ERROR_CODES = [
  'ENOENT',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'ENOTEMPTY',
  'EEXIST',
  'EROFS',
  'ENAMETOOLONG',
  'EINVAL',
  'ELOOP',
  'ESTALE',
  'ENOSPC',
  'EFBIG',
  'EMFILE',
  'EBUSY',
  'ETIMEDOUT',
  'ENOTCONN',
  'EIO',
] as const;
export type FsErrorCode = (typeof FS_ERROR_CODES)[number];
const FS_CODE_SET = new Set<string>(FS_ERROR_CODES);
export function isFsErrorCode(code: unknown): code is FsErrorCode {
  return typeof code === 'string' && FS_CODE_SET.has(code);
}

/** ERROR frame body. Unknown codes from a peer are read as EIO, never trusted as-is. */
export const ErrorBodySchema = z.object({ code: z.string().max(64), message: z.string().max(1024) }).strict();
export type ErrorBody = { code: FsErrorCode | 'PROTOCOL_ERROR'; message: string };
export function encodeErrorBody(body: ErrorBody): Uint8Array {
  return packBody(body);
}
export function decodeErrorBody(bytes: Uint8Array): ErrorBody {
  const raw = unpackBody(bytes, ErrorBodySchema, 'error body');
  const code = isFsErrorCode(raw.code) || raw.code === 'PROTOCOL_ERROR' ? raw.code : 'EIO';
  return { code, message: raw.message };
}

/** Unsolicited events (EVENT frames). */
export const PeerEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('invalidate'), paths: z.array(path).max(10_000) }).strict(),
  z.object({ type: z.literal('invalidate-all') }).strict(),
  z.object({ type: z.literal('bye'), reason: z.string().max(256) }).strict(),
]);
export type PeerEvent = z.infer<typeof PeerEventSchema>;
export function encodeEventBody(event: PeerEvent): Uint8Array {
  return packBody(event);
}
export function decodeEventBody(bytes: Uint8Array): PeerEvent {
  return unpackBody(bytes, PeerEventSchema, 'event');
}

/** HELLO body: both sides announce what they speak before anything else. */
export const HelloSchema = z
  .object({
    v: z.number().int().min(0).max(255),
    role: z.enum(['host', 'client']),
    software: z.string().max(64),
    features: z.array(z.string().max(32)).max(32),
    readOnly: z.boolean().optional(),
    chunkSize: z.number().int().min(4096).max(MAX_READ_BYTES).optional(),
  })
  .strict();
export type Hello = z.infer<typeof HelloSchema>;
export function encodeHelloBody(hello: Hello): Uint8Array {
  return packBody(hello);
}
export function decodeHelloBody(bytes: Uint8Array): Hello {
  return unpackBody(bytes, HelloSchema, 'hello');
}
