import { z } from 'zod';
import { parseByteSize } from './byte-size.js';

const byteSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = parseByteSize(v);
  if (n === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a size such as "256MiB", "10GB" or a number of bytes',
    });
    return z.NEVER;
  }
  return n;
});
const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` },
  );
const iceUrl = z
  .string()
  .regex(
    /^(stun|stuns|turn|turns):/,
    'expected a stun:, stuns:, turn: or turns: URL (turn:user:pass@host:port)',
  );

/**
 * The config file schema. Keys are snake_case as users write them in TOML; unknown keys are
 * errors (a typo must not silently fall back to a default).
 */
export const ConfigFileSchema = z
  .object({
    network: z
      .object({
        signal_url: url(['ws:', 'wss:']).optional(),
        stun: z.array(iceUrl).max(16).optional(),
        turn: z.array(iceUrl).max(16).optional(),
        transports: z
          .array(z.enum(['tls', 'webtransport', 'datachannel']))
          .min(1)
          .max(3)
          .optional(),
      })
      .strict()
      .optional(),
    cache: z
      .object({
        l1_size: byteSize.optional(),
        l2_path: z.string().min(1).max(4096).optional(),
        l2_size: byteSize.optional(),
        copies_size: byteSize.optional(),
      })
      .strict()
      .optional(),
    security: z
      .object({
        allowed_paths: z.array(z.string().min(1).max(4096)).max(256).optional(),
        allow_rw: z.boolean().optional(),
      })
      .strict()
      .optional(),
    mount: z
      .object({
        fuse: z.enum(['in-process', 'helper']).optional(),
        binding: z.enum(['auto', 'fuse3', 'fuse-native']).optional(),
      })
      .strict()
      .optional(),
    update: z.object({ enabled: z.boolean().optional() }).strict().optional(),
  })
  .strict();
export type ConfigFile = z.output<typeof ConfigFileSchema>;

/** The effective configuration every command works from. */
export interface WormholeConfig {
  network: {
    /** Signal server; undefined means "run an embedded one" (share) or "the code must name one" (mount/get). */
    signalUrl: string | undefined;
    stun: string[];
    turn: string[];
    transports: Array<'tls' | 'webtransport' | 'datachannel'>;
  };
  /** copiesDir: whole-file copies for FUSE passthrough, beside the L2 file; copiesSize 0: none. */
  cache: { l1Size: number; l2Path: string; l2Size: number; copiesDir: string; copiesSize: number };
  security: { allowedPaths: string[] | undefined; allowRw: boolean };
  /**
   * `fuse` — `in-process`: FUSE runs in the mounting process (plain Node: the CLI, the daemon);
   * `helper`: in a child Node process over a pipe (what a FileSystem living in Electron needs).
   * `binding` — `fuse3` (the project's libfuse3 binding), `fuse-native` (libfuse2), or `auto`
   * (fuse3 where it is built).
   */
  mount: { fuse: 'in-process' | 'helper'; binding: 'auto' | 'fuse3' | 'fuse-native' };
  update: { enabled: boolean };
  /** Which file set each key (for `wormhole config show`). */
  sources: Record<string, string>;
  files: { user: string; policy: string };
}
