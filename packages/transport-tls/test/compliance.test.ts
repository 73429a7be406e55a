import { transportComplianceTests } from '@wormhole/transport/compliance';
import { tlsTransport } from '@wormhole/transport-tls';

const loopback = { listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] };
transportComplianceTests({
  name: 'tls',
  setup: async () => ({ host: tlsTransport(loopback), client: tlsTransport(loopback) }),
  teardown: async ({ host, client }) => {
    await Promise.all([host.close(), client.close()]);
  },
});
