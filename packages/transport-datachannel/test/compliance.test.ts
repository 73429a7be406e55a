import type { Transport } from '@wormhole/transport';
import { transportComplianceTests } from '@wormhole/transport/compliance';
import { dataChannelTransport } from '../src/index.js';

let transport: Transport | undefined;
transportComplianceTests({
  name: 'datachannel',
  async setup() {
    transport = dataChannelTransport({ bindAddress: '127.0.0.1' });
    return { host: transport, client: transport };
  },
  async teardown() {
    await transport?.close();
  },
});
