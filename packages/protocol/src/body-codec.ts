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
  return validate(unpackValue(bytes, what), schema, what);
}

/**
 * As `unpackBody`, with `accepts` tried first: a value it accepts is returned without running
 * the schema. `accepts` must be stricter than (or as strict as) the schema; what it refuses is
 * judged by the schema, so only the speed depends on it.
 */
export function unpackBodyChecked<S extends z.ZodType>(
  bytes: Uint8Array,
  accepts: (value: unknown) => value is z.infer<S>,
  schema: S,
  what: string,
): z.infer<S> {
  const value = unpackValue(bytes, what);
  return accepts(value) ? value : validate(value, schema, what);
}

function unpackValue(bytes: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw ProtocolError.BAD_BODY(`${what}: body is not valid msgpack`, err);
  }
}

function validate<S extends z.ZodType>(value: unknown, schema: S, what: string): z.infer<S> {
  const res = schema.safeParse(value);
  if (!res.success) {
    const issue = res.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw ProtocolError.BAD_BODY(`${what}: ${where}${issue?.message ?? 'invalid'}`);
  }
  return res.data;
}
