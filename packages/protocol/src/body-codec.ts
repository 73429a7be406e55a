import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { ProtocolError } from './protocol-error.js';

// Records and structured clones are msgpackr extensions other implementations cannot read, and
// they let a peer make us allocate shapes; plain maps/arrays only.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

/** msgpack-encodes a structured frame body. */
export function packBody(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes and validates a structured body against `schema`. Throws only ProtocolError. */
export function unpackBody<S extends z.ZodType>(bytes: Uint8Array, schema: S, what: string): z.infer<S> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (err) {
    throw ProtocolError.BAD_BODY(`${what}: body is not valid msgpack`, err);
  }
  const res = schema.safeParse(value);
  if (!res.success) {
    const issue = res.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw ProtocolError.BAD_BODY(`${what}: ${where}${issue?.message ?? 'invalid'}`);
  }
  return res.data;
}
