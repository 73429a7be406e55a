import { randomBytes } from 'node:crypto';
import { joinCodePassword, parseJoinCode } from '@wormhole/protocol';
import { constantTimeEqual } from './bytes.js';
import { CPace, cpaceStartingNow } from './cpace.js';
import { PAKE_AAD, pakeChannelId } from './host-rendezvous.js';
import { deriveSessionKeys, type SessionKeys, transcriptSalt } from './key-schedule.js';
import type { PathInfo, PeerChannel } from './peer-channel.js';
import { asTransportError, PeerLink } from './peer-link.js';
import {
  decodeHandshake,
  encodeHandshake,
  type HandshakeMessage,
  isHandshakePayload,
} from './rendezvous-messages.js';
import { parseResumeTicket, type ResumeTicket, resumeMac, ticketFromKeys } from './resume.js';
import { SignalClient } from './signal-client.js';

import { raceDelay, type Transport } from './transport.js';
import { TransportError } from './transport-error.js';
import { fetchTurnIceServers } from './turn-ice-servers.js';

export interface DialRendezvousOptions {
  /** The join code a person typed. Either this or `resume`. */
  readonly code?: string;
  /** A ticket from an earlier connection to the same host: reconnects without the code. */
  readonly resume?: ResumeTicket;
  /** Signal server; default: the one named in the code or ticket. */
  readonly signalUrl?: string;
  /** Transports to race. Not closed by the dial. */
  readonly transports: readonly Transport[];
  readonly signal?: AbortSignal;
  /** Whole attempt, code entered → authenticated channel. Default 30000. */
  readonly timeoutMs?: number;
}

export interface DialResult {
  /** Authenticated channel to the host. */
  readonly channel: PeerChannel;
  readonly path: PathInfo;
  /** Ticket for the next reconnect (tickets rotate: this replaces the one passed in). */
  readonly resume: ResumeTicket;
  readonly resumed: boolean;
}

/**
 * Joins a share: PAKE with the code (or MAC handshake with a resumption ticket) through the
 * signal room, then races every transport both sides have; the first channel that passes
 * channel binding and that the host selects wins. Rejects with TRANSPORT_PAKE_FAILED (wrong
 * code or interference), TRANSPORT_RESUME_REFUSED, TRANSPORT_BINDING_MISMATCH,
 * TRANSPORT_DECRYPT_FAILED, TRANSPORT_TIMEOUT, TRANSPORT_ABORTED, TRANSPORT_SIGNAL_ERROR...
 * Everything it opened is closed when it settles (except the returned channel).
 */
export async function dialRendezvous(opts: DialRendezvousOptions): Promise<DialResult> {
  let nameplate: string;
  let signalUrl: string | undefined;
  let password: Uint8Array | undefined;
  let ticket: (ResumeTicket & { secretBytes: Uint8Array }) | undefined;
  if (opts.resume) {
    ticket = parseResumeTicket(opts.resume);
    nameplate = ticket.nameplate;
    signalUrl = opts.signalUrl ?? ticket.signalUrl;
  } else if (opts.code !== undefined) {
    const code = parseJoinCode(opts.code);
    nameplate = code.nameplate;
    signalUrl = opts.signalUrl ?? code.signalUrl;
    password = joinCodePassword(code);
  } else {
    throw new TypeError('dialRendezvous needs a code or a resume ticket');
  }
  if (!signalUrl)
    throw TransportError.SIGNAL_UNREACHABLE('No signal server: the code names none and none is configured');

  const ac = new AbortController();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  const onOuterAbort = (): void => ac.abort();
  if (opts.signal?.aborted) ac.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let client: SignalClient | undefined;
  if (password) cpaceStartingNow();
  try {
    client = await SignalClient.connect(signalUrl, { signal: ac.signal });
    // A transport the race holds back is prepared only if it starts: loading it now would take
    // CPU from the one that usually wins.
    for (const t of opts.transports) if (raceDelay(t, opts.transports.length) === 0) t.prepare?.('client');
    // Short-lived TURN credentials, fetched while the PAKE runs; never rejects ([] without TURN).
    const iceServers = fetchTurnIceServers(client);
    const joining = client.join(nameplate);
    joining.catch(() => {}); // awaited below; not unhandled while the share is computed
    // The PAKE share is computed while the join travels to the signal server and back.
    const pake = password
      ? new CPace('A', password, { ci: pakeChannelId(nameplate), aad: PAKE_AAD })
      : undefined;
    const joined = await joining;
    const result = await runClient(
      client,
      joined.peers,
      pake,
      ticket,
      opts.transports,
      ac.signal,
      iceServers,
    );
    return {
      channel: result.channel,
      path: result.channel.pathInfo(),
      resume: ticketFromKeys(result.keys, nameplate, signalUrl),
      resumed: ticket !== undefined,
    };
  } catch (err) {
    const e = asTransportError(err);
    // Aborting closes the signal socket too; whichever error surfaced first, report the cause.
    if (ac.signal.aborted && !isSecurityFailure(e)) {
      throw timedOut
        ? TransportError.TIMEOUT(`Could not connect within ${timeoutMs} ms`)
        : TransportError.ABORTED();
    }
    throw e;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (client && !client.isClosed) {
      await client.leave().catch(() => {});
      client.close();
    }
  }
}

function isSecurityFailure(e: TransportError): boolean {
  return [
    'TRANSPORT_PAKE_FAILED',
    'TRANSPORT_BINDING_MISMATCH',
    'TRANSPORT_DECRYPT_FAILED',
    'TRANSPORT_RESUME_REFUSED',
  ].includes(e.code);
}

function runClient(
  client: SignalClient,
  peers: readonly string[],
  pake: CPace | undefined,
  ticket: (ResumeTicket & { secretBytes: Uint8Array }) | undefined,
  transports: readonly Transport[],
  signal: AbortSignal,
  iceServers: Promise<readonly string[]>,
): Promise<{ channel: PeerChannel; keys: SessionKeys }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(TransportError.ABORTED());
      return;
    }
    let hostId: string | undefined;
    let link: PeerLink | undefined;
    let keys: SessionKeys | undefined;
    let settled = false;
    let stage: 'await-b' | 'await-confirm' | 'link' = 'await-b';
    let confirmB: ((mac: Uint8Array) => boolean) | undefined;
    const nonceA = new Uint8Array(randomBytes(32));

    const cleanup = (): void => {
      settled = true;
      client.off('relay', onRelay);
      client.off('close', onClose);
      client.off('peer-left', onPeerLeft);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: TransportError): void => {
      if (settled) return;
      cleanup();
      link?.fail(err);
      reject(err);
    };
    const onAbort = (): void => fail(TransportError.ABORTED());
    const onClose = (): void =>
      fail(TransportError.SIGNAL_UNREACHABLE('Lost the signal server while connecting'));
    const onPeerLeft = (id: string): void => {
      if (id === hostId) fail(TransportError.CONNECT_FAILED('The host left the room'));
    };
    // A first message goes to everybody when the room has several peers: only the host answers.
    const to = peers.length === 1 ? peers[0] : undefined;
    const send = (m: HandshakeMessage): void => client.relay(encodeHandshake(m), hostId ?? to);

    const onRelay = (from: string, payload: string): void => {
      if (settled || (hostId !== undefined && from !== hostId)) return;
      if (stage === 'link') {
        link!.deliver(payload);
        return;
      }
      if (!isHandshakePayload(payload)) {
        if (hostId !== undefined) fail(TransportError.BAD_SIGNAL('unexpected message during handshake'));
        return;
      }
      let msg: HandshakeMessage;
      try {
        msg = decodeHandshake(payload);
      } catch (err) {
        // Before we know the host, garbage from another room member is ignored.
        if (hostId !== undefined) fail(asTransportError(err));
        return;
      }
      try {
        onHandshake(from, msg);
      } catch (err) {
        fail(asTransportError(err));
      }
    };

    const onHandshake = (from: string, msg: HandshakeMessage): void => {
      if (stage === 'await-b') {
        if (pake && msg.t === 'pake-b') {
          hostId = from;
          let res: ReturnType<typeof pake.finish>;
          try {
            res = pake.finish(msg.share);
          } catch (err) {
            throw TransportError.PAKE_FAILED(undefined, { cause: err });
          }
          confirmB = res.verifyPeerConfirm;
          keys = deriveSessionKeys(res.ke, transcriptSalt(res.transcript));
          send({ t: 'confirm-a', mac: res.confirm });
          stage = 'await-confirm';
          return;
        }
        if (ticket && msg.t === 'resume-b') {
          hostId = from;
          const expected = resumeMac(ticket.secretBytes, 'host', ticket.id, nonceA, msg.nonce);
          if (!constantTimeEqual(msg.mac, expected))
            throw TransportError.RESUME_REFUSED('Host failed to prove the resumption secret');
          send({ t: 'resume-c', mac: resumeMac(ticket.secretBytes, 'client', ticket.id, nonceA, msg.nonce) });
          keys = deriveSessionKeys(ticket.secretBytes, Buffer.concat([nonceA, msg.nonce]));
          startLink();
          return;
        }
        if (msg.t === 'pake-fail' && pake) {
          hostId = from;
          throw TransportError.PAKE_FAILED();
        }
        if (msg.t === 'resume-fail' && ticket) throw TransportError.RESUME_REFUSED();
        return; // Other room members' chatter.
      }
      if (stage === 'await-confirm') {
        if (msg.t === 'pake-fail') throw TransportError.PAKE_FAILED();
        if (msg.t !== 'confirm-b') throw TransportError.BAD_SIGNAL(`unexpected ${msg.t}`);
        if (!confirmB!(msg.mac))
          throw TransportError.PAKE_FAILED(
            'The host could not prove it knows the code (wrong code or interference)',
          );
        startLink();
        return;
      }
    };

    const startLink = (): void => {
      stage = 'link';
      link = new PeerLink({
        role: 'client',
        keys: keys!,
        transports,
        send: (payload) => client.relay(payload, hostId),
        signal,
        iceServers,
      });
      link.result.then(
        (channel) => {
          if (settled) {
            channel.close('dial settled');
            return;
          }
          cleanup();
          resolve({ channel, keys: keys! });
        },
        (err: TransportError) => fail(err),
      );
    };

    client.on('relay', onRelay);
    client.on('close', onClose);
    client.on('peer-left', onPeerLeft);
    signal.addEventListener('abort', onAbort, { once: true });
    if (peers.length === 0) {
      fail(TransportError.CONNECT_FAILED('Nobody is sharing in this room'));
      return;
    }
    if (pake) send({ t: 'pake-a', share: pake.share });
    else send({ t: 'resume-a', id: ticket!.id, nonce: nonceA });
  });
}
