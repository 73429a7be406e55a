import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (several servers may share a process). */
export interface SignalMetrics {
  registry: Registry;
  activeConnections: Gauge;
  totalConnections: Counter;
  messagesRelayed: Counter;
  connectionDuration: Histogram;
  errors: Counter<'code'>;
}

/** Creates the metrics; `roomCount` is read at scrape time for `wormhole_active_rooms`. */
export function createMetrics(roomCount: () => number): SignalMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'wormhole_active_rooms',
    help: 'Rooms that exist now (in Redis mode: across all instances, as last counted)',
    registers: [registry],
    collect() {
      this.set(roomCount());
    },
  });
  return {
    registry,
    activeConnections: new Gauge({
      name: 'wormhole_active_connections',
      help: 'WebSocket connections open on this instance',
      registers: [registry],
    }),
    // The issue fixes this name; Prometheus convention would be wormhole_connections_total.
    totalConnections: new Counter({
      name: 'wormhole_total_connections',
      help: 'WebSocket connections accepted by this instance since start',
      registers: [registry],
    }),
    // prom-client exposes a counter under exactly the name given, so the suffix is spelled out.
    messagesRelayed: new Counter({
      name: 'wormhole_messages_relayed_total',
      help: 'Relay messages delivered to sockets of this instance',
      registers: [registry],
    }),
    connectionDuration: new Histogram({
      name: 'wormhole_connection_duration_seconds',
      help: 'How long WebSocket connections stayed open',
      buckets: [1, 5, 15, 60, 300, 900, 3600, 14_400, 86_400],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'wormhole_errors_total',
      help: 'Error messages sent to clients and handshakes refused, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
