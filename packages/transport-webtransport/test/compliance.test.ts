import { transportComplianceTests } from '@wormhole/transport/compliance';
import { webTransportTransport } from '@wormhole/transport-webtransport';

const loopback = { listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] };
transportComplianceTests({
  name: 'webtransport',
  setup: async () => ({ host: webTransportTransport(loopback), client: webTransportTransport(loopback) }),
  teardown: async ({ host, client }) => {
    await Promise.all([host.close(), client.close()]);
  },
});
