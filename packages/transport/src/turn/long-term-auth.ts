import { readText, textAttribute } from './stun-attributes.js';
import { Attr } from './stun-constants.js';
import { longTermKey } from './stun-integrity.js';
import type { StunAttribute, StunMessage } from './stun-message.js';
import { TurnError } from './turn-error.js';

/** Longest REALM / NONCE accepted from a server (RFC 8489: < 128 characters, ≤ 763 bytes). */
const MAX_REALM_NONCE_CHARS = 763;

/**
 * Long-term credential state shared by every request of one allocation (control and data
 * connections): the server's REALM and current NONCE, learned from its 401/438 challenges,
 * and the key MD5(username:realm:password).
 */
export class LongTermAuth {
  readonly username: string;
  readonly #password: string;
  #realm: string | undefined;
  #nonce: string | undefined;
  #key: Buffer | undefined;

  constructor(username: string, password: string) {
    this.username = username;
    this.#password = password;
  }

  /** True once a challenge supplied realm and nonce. */
  get ready(): boolean {
    return this.#key !== undefined;
  }

  /** The HMAC key, once ready. */
  get key(): Buffer | undefined {
    return this.#key;
  }

  /** Takes REALM and NONCE from a 401 or 438 error response. Throws TURN_PROTOCOL when absent. */
  learn(challenge: StunMessage): void {
    const realm = readText(challenge, Attr.Realm);
    const nonce = readText(challenge, Attr.Nonce);
    if (realm === undefined || nonce === undefined)
      throw TurnError.PROTOCOL('challenge without REALM and NONCE');
    if (realm.length > MAX_REALM_NONCE_CHARS || nonce.length > MAX_REALM_NONCE_CHARS)
      throw TurnError.MALFORMED('REALM or NONCE too long');
    if (realm !== this.#realm || this.#key === undefined)
      this.#key = longTermKey(this.username, realm, this.#password);
    this.#realm = realm;
    this.#nonce = nonce;
  }

  /** USERNAME, REALM, NONCE for an authenticated request (MESSAGE-INTEGRITY is added by the encoder). */
  attributes(): StunAttribute[] {
    if (this.#realm === undefined || this.#nonce === undefined) return [];
    return [
      textAttribute(Attr.Username, this.username),
      textAttribute(Attr.Realm, this.#realm),
      textAttribute(Attr.Nonce, this.#nonce),
    ];
  }
}
