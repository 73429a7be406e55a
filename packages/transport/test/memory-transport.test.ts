import { transportComplianceTests } from '@wormhole/transport/compliance';
import { createMemoryTransport } from '@wormhole/transport/testing';

transportComplianceTests({
  name: 'memory',
  setup: async () => ({ host: createMemoryTransport(), client: createMemoryTransport() }),
  teardown: async ({ host, client }) => {
    await host.close();
    await client.close();
  },
});
