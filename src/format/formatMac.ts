/** `52:54:00:12:34:56`: a MAC address the way `ip link` and tcpdump print it. */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}
