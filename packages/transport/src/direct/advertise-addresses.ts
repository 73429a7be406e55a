import { networkInterfaces } from 'node:os';
import { formatHostPort, parseHostPort } from './listen-signal.js';

/**
 * The hosts a listener advertises when none are configured: for a wildcard listen host, every
 * non-internal interface address of the families it accepts ('0.0.0.0' ⇒ IPv4, '::' ⇒ both),
 * plus loopback (so two processes on one machine always find each other); for a specific
 * listen host, just that host. Link-local IPv6 is skipped: it needs a zone id the peer cannot know.
 */
export function defaultAdvertiseHosts(listenHost: string): string[] {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return [listenHost];
  const v6 = listenHost === '::';
  const out: string[] = [];
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') out.push(info.address);
      else if (v6 && !info.address.toLowerCase().startsWith('fe80')) out.push(info.address);
    }
  }
  out.push('127.0.0.1');
  if (v6) out.push('::1');
  return [...new Set(out)];
}

/**
 * The 'ip:port' list for a listen signal: configured entries are either 'ip' (the listener's
 * port is added) or complete 'ip:port' (kept as given, e.g. a port forwarded on a router).
 */
export function advertisedAddresses(
  configured: readonly string[] | undefined,
  listenHost: string,
  port: number,
): string[] {
  const hosts = configured ?? defaultAdvertiseHosts(listenHost);
  return hosts.map((h) => (parseHostPort(h) !== undefined ? h : formatHostPort(h, port)));
}
