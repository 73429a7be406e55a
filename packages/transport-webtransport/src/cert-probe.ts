import { connect } from 'node:tls';
import type { HostPort } from '@wormhole/transport/direct';
import { sha256Hex } from '@wormhole/transport/direct';

/**
 * After a failed WebTransport handshake, finds out whether the server presented a certificate
 * other than the pinned one: the library reports every failure as "Opening handshake failed",
 * but a pin mismatch must surface as TRANSPORT_AUTH_FAILED. Opens a plain TLS connection to
 * the same address (the HTTP/2 endpoint serves the same certificate in both modes), reads the
 * certificate hash and closes. Resolves undefined when the server cannot be reached.
 */
export function probeCertHash(target: HostPort, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false, // only reading the certificate; nothing is sent
    });
    const done = (hash: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(hash);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('error', () => done(undefined));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate(true).raw;
      done(raw === undefined ? undefined : sha256Hex(raw));
    });
  });
}
