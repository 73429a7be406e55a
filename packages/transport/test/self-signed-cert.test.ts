import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { createSelfSignedCertificate } from '@wormhole/transport/direct';

describe('createSelfSignedCertificate', () => {
  it('is a self-signed ECDSA P-256 X.509 v3 certificate, valid 13 days, hashed as pinned', async () => {
    const before = Date.now();
    const c = await createSelfSignedCertificate();
    const x = new X509Certificate(c.certPem);
    assert.equal(x.subject, 'CN=wormhole');
    assert.equal(x.issuer, 'CN=wormhole');
    assert.ok(x.verify(x.publicKey), 'signed by its own key');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(x.subjectAltName, 'DNS:wormhole');
    assert.ok(x.checkPrivateKey(createPrivateKey(c.keyPem)), 'the key belongs to the certificate');
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    assert.ok(from <= before && from >= before - 120_000, 'back-dated about a minute');
    // WebTransport's serverCertificateHashes refuses more than 14 days.
    assert.ok(to - from <= 14 * 86_400_000, `valid ${(to - from) / 86_400_000} days`);
    assert.equal(Math.abs(c.notAfter.getTime() - to) < 1000, true);
    assert.deepEqual(c.der, x.raw);
    assert.equal(c.sha256, createHash('sha256').update(x.raw).digest('hex'));
    const other = await createSelfSignedCertificate(1);
    assert.notEqual(other.sha256, c.sha256, 'fresh key and serial each time');
    assert.notEqual(new X509Certificate(other.certPem).serialNumber, x.serialNumber);
  });

  it('carries a TLS 1.3 handshake with client certificates, each side seeing the other hash', async () => {
    const server = await createSelfSignedCertificate();
    const client = await createSelfSignedCertificate();
    const srv = createServer({
      cert: server.certPem,
      key: server.keyPem,
      minVersion: 'TLSv1.3',
      requestCert: true,
      rejectUnauthorized: false,
    });
    const seen = new Promise<string>((resolve) =>
      srv.once('secureConnection', (s: TLSSocket) => {
        resolve(createHash('sha256').update(s.getPeerX509Certificate()!.raw).digest('hex'));
        s.end();
      }),
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const sock = connect({
        host: '127.0.0.1',
        port: (srv.address() as { port: number }).port,
        cert: client.certPem,
        key: client.keyPem,
        minVersion: 'TLSv1.3',
        rejectUnauthorized: false,
      });
      await once(sock, 'secureConnect');
      const raw = sock.getPeerCertificate(true).raw;
      assert.equal(createHash('sha256').update(raw).digest('hex'), server.sha256);
      assert.equal(await seen, client.sha256);
      sock.destroy();
    } finally {
      srv.close();
    }
  });
});
