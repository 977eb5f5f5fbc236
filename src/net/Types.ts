/**
 * The contracts of the virtual switch: what a port is, what each kind is for, and what the
 * switch counts. A port's device (a VM's virtio-net card, the built-in services, later the
 * host endpoint or an uplink) sends frames in through `send` and gets frames out through
 * the sink it attached with.
 */

/**
 * - vm: a guest's network card; its name is the VM's (its hostname and DNS name).
 * - services: the switch's own DHCP, DNS, ARP and ping responder for 10.0.2.2 and 10.0.2.3.
 * - host: reserved for the host endpoint (the page opening a guest's web server).
 * - uplink: reserved for a relay to another network (internet access is out of scope).
 */
export type PortKind = 'vm' | 'services' | 'host' | 'uplink';

/** Counts of one port, from the port's side: what its device sent, what it was given. */
export interface PortStats {
  sentFrames: number;
  sentBytes: number;
  receivedFrames: number;
  receivedBytes: number;
  /** Frames lost on this port: its inbound queue full (a flood), or its outbound queue full (a slow reader). */
  dropped: number;
}

export interface SwitchPort {
  readonly id: number;
  readonly kind: PortKind;
  readonly name: string;
  /** A VM port's IPv4 address on the switch (what DHCP hands it and DNS answers for it). */
  readonly address: number | undefined;
  readonly stats: PortStats;
  /** A frame from the port's device into the switch (copied into its bounded inbound queue). */
  send(frame: Uint8Array): void;
  /** Leaves the switch: its queues, learnt MACs and address are let go. */
  detach(): void;
}

/** Receives the frames the switch forwards to a port; `from` is the port they came in on. The frame must not be changed. */
export type PortSink = (frame: Uint8Array, from: SwitchPort) => void;

/** When frames move: at once (realtime, a microtask after `send`), or only when the host calls `pump()` (lockstep). */
export type SwitchDelivery = 'immediate' | 'manual';
