/**
 * The network every romvisor switch gives its guests, one place for the numbers the guest
 * images (their udhcpc script), the DHCP and DNS services and the tests all agree on:
 *   10.0.2.0/24; 10.0.2.2 the gateway and future host endpoint; 10.0.2.3 the DNS server;
 *   guests from 10.0.2.15 on, each at an address fixed by its name; the domain `romvisor`;
 *   MAC 52:54:00:xx:xx:xx from the VM's name.
 * Nothing here depends on host time or randomness, so a deterministic run replays exactly.
 */
export const NET = {
  /** 10.0.2.0, as a 32-bit number. */
  network: ipv4(10, 0, 2, 0),
  prefixLength: 24,
  netmask: ipv4(255, 255, 255, 0),
  broadcast: ipv4(10, 0, 2, 255),
  gateway: ipv4(10, 0, 2, 2),
  dns: ipv4(10, 0, 2, 3),
  /** The first guest address, 10.0.2.15 (QEMU's user network hands out the same one first). */
  firstGuest: ipv4(10, 0, 2, 15),
  /** Guest addresses: 10.0.2.15 up to 10.0.2.254. */
  guestCount: 240,
  domain: 'romvisor',
  /** DHCP lease, seconds: a day, longer than any session. */
  leaseSeconds: 86400,
  /**
   * The built-in services' MAC (answers ARP for the gateway and DNS addresses). Outside
   * 52:54:00, so no guest's name can give the same address.
   */
  servicesMac: Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02),
} as const;

/** An IPv4 address as a 32-bit unsigned number. */
export function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** `10.0.2.15` */
export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** FNV-1a, 32 bits, over the name's UTF-8: a stable hash for addresses derived from names. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** The VM's MAC: 52:54:00 (QEMU's locally administered prefix) and 24 bits of its name's hash. */
export function macFromName(name: string): Uint8Array {
  const h = nameHash(name);
  return Uint8Array.of(0x52, 0x54, 0x00, (h >>> 16) & 255, (h >>> 8) & 255, h & 255);
}

/**
 * The one rule for a VM's name, wherever a VM is named (the page's VMs, `romvisor boot
 * --name`, a scenario's guests, the switch's ports): every VM has a network card, and its
 * name is its hostname and DNS name, so it is a DNS label: a letter or digit, then letters,
 * digits and hyphens, not ending in a hyphen, at most 63. Names are compared lower-cased.
 */
export const VM_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
/** VM_NAME_PATTERN in words, for error messages. */
export const VM_NAME_RULE = 'a host name: 1 to 63 letters, digits and inner hyphens';

/** Why `name` cannot name a VM (a sentence naming it), or undefined when it can. */
export function vmNameProblem(name: string): string | undefined {
  return VM_NAME_PATTERN.test(name) ? undefined : `VM name "${name}" is not ${VM_NAME_RULE}`;
}

/**
 * A name that follows the rule, made from any text (an imported image's file name such as
 * `my_disk.vhd` gives `my-disk-vhd`), with room left for a `-NN` suffix; `vm` if nothing is left.
 */
export function vmNameFrom(text: string): string {
  const name = text.replace(/[^a-z0-9]+/gi, '-').slice(0, 56).replace(/^-+|-+$/g, '');
  return name || 'vm';
}
