import { createHmac } from 'node:crypto';

/** TURN settings for coturn's REST API scheme (`use-auth-secret` / `static-auth-secret`). */
export interface TurnOptions {
  /** `turn:` / `turns:` / `stun:` URLs handed to clients. */
  urls: string[];
  /** The shared secret configured in coturn (`static-auth-secret`). Never logged. */
  secret: string;
  /** Credential lifetime in seconds. Default 3600. */
  ttlSec?: number;
}

/** What a client receives in `turn-credentials`. */
export interface TurnCredentials {
  urls: string[];
  username: string;
  credential: string;
  ttlSeconds: number;
}

/**
 * Time-limited TURN credentials (draft-uberti-behave-turn-rest-00, as coturn implements it):
 * username = `<unix expiry>:<peer id>`, credential = base64(HMAC-SHA1(secret, username)).
 */
export function turnCredentials(turn: TurnOptions, peerId: string, nowMs = Date.now()): TurnCredentials {
  const ttlSeconds = turn.ttlSec ?? 3600;
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${peerId}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return { urls: [...turn.urls], username, credential, ttlSeconds };
}
