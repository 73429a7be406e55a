/**
 * @packageDocumentation
 * Wormhole's wire formats, with no I/O: peer frames, file-system request/response bodies,
 * signal-server messages, join codes, and the error base class every package extends.
 *
 * @example
 * ```ts
 * import { encodeFrame, decodeFrame, FrameKind, encodeRequestBody, decodeRequestBody, FsOp } from '@wormhole/protocol';
 * const wire = encodeFrame(FrameKind.REQUEST, 7, encodeRequestBody(FsOp.STAT, { path: 'docs/a.txt' }));
 * const frame = decodeFrame(wire);               // { kind: REQUEST, id: 7, body }
 * const req = decodeRequestBody(frame.body);     // { op: FsOp.STAT, params: { path: 'docs/a.txt' } }
 * ```
 */
export * from './app-error.js';
export * from './body-codec.js';
export * from './entry-name.js';
export * from './frame-decoder.js';
export * from './frames.js';
export * from './fs-messages.js';
export * from './join-code.js';
export * from './protocol-error.js';
export * from './signal-messages.js';
export * from './stat-check.js';
export * from './version.js';
export { WORDLIST } from './wordlist.js';
