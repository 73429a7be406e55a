import { TransportError } from '@wormhole/transport';
import type { NativeIceServer, NativeRtcConfig } from './native.js';

/** Largest message libdatachannel accepts on a DataChannel (its SCTP max-message-size). */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** Options of {@link dataChannelTransport}. */
export interface DataChannelTransportOptions {
  /**
   * STUN/TURN servers: `stun:host:port`, `turn:user:pass@host:port[?transport=udp|tcp]`,
   * `turns:user:pass@host:port`. User and password may be percent-encoded. Default: none
   * (host candidates only, enough on a LAN or loopback).
   */
  readonly iceServers?: readonly string[];
  /** `'relay'` gathers only TURN candidates (no direct path). Default `'all'`. */
  readonly iceTransportPolicy?: 'all' | 'relay';
  /** Local address ICE binds to, e.g. `'127.0.0.1'`. Default: all interfaces. */
  readonly bindAddress?: string;
  /** First local UDP port ICE may use. Default: any. */
  readonly portRangeBegin?: number;
  /** Last local UDP port ICE may use. Default: any. */
  readonly portRangeEnd?: number;
  /** Share one UDP port among all connections (ICE-UDP mux). Default false. */
  readonly enableIceUdpMux?: boolean;
  /** How long a session may take to connect before it fails. Default 15000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * Under `iceTransportPolicy: 'all'`, our relay (TURN) candidates are signalled to the peer no
   * earlier than this many ms after the session started, so direct pairs get a head start.
   * Without it, libjuice often nominates a relay pair that happened to succeed first between two
   * NATs that hole-punch fine (measured in the NAT lab: relayed in 11 of 20 tries). A relayed
   * connection costs up to this much more setup. Default 700 ms; 0 disables.
   */
  readonly relayCandidateDelayMs?: number;
  /** Largest message `send` accepts, at most 256 KiB. Default 256 KiB. */
  readonly maxMessageBytes?: number;
  /**
   * `send()` resolves once the DataChannel's `bufferedAmount()` is at or below this many bytes.
   * Default 1 MiB.
   */
  readonly highWaterMarkBytes?: number;
}

/** Options with defaults applied and everything checked. */
export interface ResolvedOptions {
  readonly rtcConfig: NativeRtcConfig;
  readonly connectTimeoutMs: number;
  readonly relayCandidateDelayMs: number;
  readonly maxMessageBytes: number;
  readonly highWaterMarkBytes: number;
  /** iceServers with passwords removed, for error messages and logs. */
  readonly iceServersRedacted: readonly string[];
}

function badOption(message: string): TransportError {
  return new TransportError('TRANSPORT_UNAVAILABLE', `datachannel: invalid option: ${message}`);
}

function checkPort(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 65535)) {
    throw badOption(`${name} must be an integer port 1-65535`);
  }
}

/** Hides credentials: `turn:user:***@host:port`. */
export function redactIceServer(url: string): string {
  return url.replace(/^(turns?:)([^@]*)@/, (_m, scheme: string, cred: string) => {
    const user = cred.split(':')[0] ?? '';
    return `${scheme}${user}:***@`;
  });
}

/**
 * Parses one `stun:`/`turn:`/`turns:` URL into libdatachannel's object form, so bad config is
 * reported here (with the password redacted) rather than as an opaque native error.
 */
export function parseIceServer(url: string): NativeIceServer {
  const m =
    /^(stun|turn|turns):(?:([^:@/?]*):([^@/?]*)@)?(\[[0-9a-fA-F:.]+\]|[^:@/?[\]]+):(\d{1,5})(?:\?transport=(udp|tcp))?$/.exec(
      url,
    );
  if (m === null) throw badOption(`cannot parse ICE server '${redactIceServer(url)}'`);
  const [, scheme, user, pass, rawHost, rawPort, transport] = m;
  const hostname = (rawHost ?? '').replace(/^\[|\]$/g, '');
  const port = Number(rawPort);
  checkPort(port, `port of ICE server '${redactIceServer(url)}'`);
  if (scheme === 'stun') {
    if (user !== undefined) throw badOption(`STUN server '${redactIceServer(url)}' takes no credentials`);
    if (transport !== undefined) throw badOption(`STUN server '${url}' takes no transport`);
    return { hostname, port };
  }
  if (user === undefined || pass === undefined) {
    throw badOption(`TURN server '${redactIceServer(url)}' needs user:pass@`);
  }
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(user);
    password = decodeURIComponent(pass);
  } catch {
    throw badOption(`bad percent-encoding in credentials of '${redactIceServer(url)}'`);
  }
  const relayType = scheme === 'turns' ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
  return { hostname, port, username, password, relayType };
}

/** Applies defaults and validates; throws TransportError on bad options. */
export function resolveOptions(options: DataChannelTransportOptions): ResolvedOptions {
  const iceServers = (options.iceServers ?? []).map(parseIceServer);
  const policy = options.iceTransportPolicy ?? 'all';
  if (policy !== 'all' && policy !== 'relay') throw badOption("iceTransportPolicy must be 'all' or 'relay'");
  if (policy === 'relay' && !iceServers.some((s) => s.relayType !== undefined)) {
    throw badOption("iceTransportPolicy 'relay' needs at least one turn: or turns: server");
  }
  checkPort(options.portRangeBegin, 'portRangeBegin');
  checkPort(options.portRangeEnd, 'portRangeEnd');
  if (
    options.portRangeBegin !== undefined &&
    options.portRangeEnd !== undefined &&
    options.portRangeBegin > options.portRangeEnd
  ) {
    throw badOption('portRangeBegin must not exceed portRangeEnd');
  }
  const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > MAX_MESSAGE_BYTES) {
    throw badOption(`maxMessageBytes must be an integer 1-${MAX_MESSAGE_BYTES}`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw badOption('connectTimeoutMs must be a positive number');
  }
  const relayCandidateDelayMs = policy === 'relay' ? 0 : (options.relayCandidateDelayMs ?? 700);
  if (!Number.isFinite(relayCandidateDelayMs) || relayCandidateDelayMs < 0) {
    throw badOption('relayCandidateDelayMs must be a non-negative number');
  }
  const highWaterMarkBytes = options.highWaterMarkBytes ?? 1024 * 1024;
  if (!Number.isInteger(highWaterMarkBytes) || highWaterMarkBytes < 0) {
    throw badOption('highWaterMarkBytes must be a non-negative integer');
  }
  const rtcConfig: NativeRtcConfig = {
    iceServers,
    iceTransportPolicy: policy,
    // SCTP and message-size settings stay at libdatachannel's defaults (256 KiB messages);
    // tuning them measured slower and less reliable here (see /work/shared/ENVIRONMENT.md).
    ...(options.bindAddress === undefined ? {} : { bindAddress: options.bindAddress }),
    ...(options.portRangeBegin === undefined ? {} : { portRangeBegin: options.portRangeBegin }),
    ...(options.portRangeEnd === undefined ? {} : { portRangeEnd: options.portRangeEnd }),
    ...(options.enableIceUdpMux === undefined ? {} : { enableIceUdpMux: options.enableIceUdpMux }),
  };
  return {
    rtcConfig,
    connectTimeoutMs,
    relayCandidateDelayMs,
    maxMessageBytes,
    highWaterMarkBytes,
    iceServersRedacted: (options.iceServers ?? []).map(redactIceServer),
  };
}
