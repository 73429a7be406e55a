import { randomInt } from 'node:crypto';
import { ProtocolError } from './protocol-error.js';
import { WORDLIST } from './wordlist.js';

/**
 * A join code is `NAMEPLATE-WORD-WORD[...]`, optionally followed by `@HOST:PORT` naming the
 * signal server to use (how a share with an embedded signal server tells the peer where to go).
 * Only the nameplate is ever sent to the signal server; the words are the PAKE secret.
 *
 *   7-guitar-harbor
 *   42-amber-canyon-piano@192.168.1.20:4455
 */
export interface JoinCode {
  /** Room id on the signal server: 1-8 decimal digits, no leading zero. */
  readonly nameplate: string;
  /** Secret words, lower-case. Never leaves this process except as PAKE input. */
  readonly words: readonly string[];
  /** `ws://HOST:PORT` when the code names its signal server, else undefined. */
  readonly signalUrl: string | undefined;
}

export const MIN_SECRET_WORDS = 2;
export const MAX_SECRET_WORDS = 8;
export const MAX_JOIN_CODE_LENGTH = 256;

const NAMEPLATE_RE = /^[1-9][0-9]{0,7}$/;
const HOSTPORT_RE = /^(?:\[([0-9a-fA-F:.]+)\]|([a-zA-Z0-9.-]{1,253})):([0-9]{1,5})$/;
const WORDS = new Set(WORDLIST);

/** True if `s` is a syntactically valid nameplate. */
export function isNameplate(s: string): boolean {
  return NAMEPLATE_RE.test(s);
}

/** Draws `count` secret words with a CSPRNG (8 bits of entropy each). */
export function generateSecretWords(count = MIN_SECRET_WORDS): string[] {
  if (!Number.isInteger(count) || count < MIN_SECRET_WORDS || count > MAX_SECRET_WORDS) {
    throw ProtocolError.BAD_JOIN_CODE(`secret word count must be ${MIN_SECRET_WORDS}-${MAX_SECRET_WORDS}`);
  }
  return Array.from({ length: count }, () => WORDLIST[randomInt(WORDLIST.length)]!);
}

/** Formats a join code; validates its parts so a bad code is never shown to a user. */
export function formatJoinCode(code: {
  nameplate: string;
  words: readonly string[];
  signalUrl?: string | undefined;
}): string {
  if (!isNameplate(code.nameplate)) throw ProtocolError.BAD_JOIN_CODE(`bad nameplate "${code.nameplate}"`);
  for (const w of code.words)
    if (!WORDS.has(w)) throw ProtocolError.BAD_JOIN_CODE(`"${w}" is not a code word`);
  let out = [code.nameplate, ...code.words].join('-');
  if (code.signalUrl !== undefined) {
    const u = new URL(code.signalUrl);
    if (u.protocol !== 'ws:' || (u.pathname !== '/' && u.pathname !== '')) {
      throw ProtocolError.BAD_JOIN_CODE('only a plain ws://HOST:PORT signal address fits in a join code');
    }
    out += `@${u.host}`;
  }
  return out;
}

/** Parses what a person typed. Tolerates case and surrounding spaces; rejects everything else. */
export function parseJoinCode(input: string): JoinCode {
  if (typeof input !== 'string') throw ProtocolError.BAD_JOIN_CODE('join code must be a string');
  const text = input.trim();
  if (text.length === 0) throw ProtocolError.BAD_JOIN_CODE('join code is empty');
  if (text.length > MAX_JOIN_CODE_LENGTH) throw ProtocolError.BAD_JOIN_CODE('join code is too long');
  const at = text.indexOf('@');
  const codePart = (at === -1 ? text : text.slice(0, at)).toLowerCase();
  const hostPart = at === -1 ? undefined : text.slice(at + 1);
  const parts = codePart.split('-');
  const nameplate = parts[0] ?? '';
  if (!isNameplate(nameplate)) {
    throw ProtocolError.BAD_JOIN_CODE('join code must start with a number, like 7-guitar-harbor');
  }
  const words = parts.slice(1);
  if (words.length < MIN_SECRET_WORDS || words.length > MAX_SECRET_WORDS) {
    throw ProtocolError.BAD_JOIN_CODE(
      `join code needs ${MIN_SECRET_WORDS}-${MAX_SECRET_WORDS} words after the number, like 7-guitar-harbor`,
    );
  }
  for (const w of words) {
    if (!WORDS.has(w)) throw ProtocolError.BAD_JOIN_CODE(`"${w.slice(0, 32)}" is not a code word (typo?)`);
  }
  let signalUrl: string | undefined;
  if (hostPart !== undefined) {
    const m = HOSTPORT_RE.exec(hostPart);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw ProtocolError.BAD_JOIN_CODE('the part after @ must be HOST:PORT of a signal server');
    }
    signalUrl = m[1] !== undefined ? `ws://[${m[1]}]:${port}` : `ws://${m[2]}:${port}`;
  }
  return { nameplate, words, signalUrl };
}

/** The PAKE password for a code: bound to the nameplate so a secret cannot be replayed in another room. */
export function joinCodePassword(code: Pick<JoinCode, 'nameplate' | 'words'>): Uint8Array {
  return new TextEncoder().encode(`wormhole-v1|${code.nameplate}|${code.words.join('-')}`);
}
