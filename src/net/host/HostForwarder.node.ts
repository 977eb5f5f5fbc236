/**
 * `--hostfwd tcp:HOSTADDR:HOSTPORT-GUEST:GUESTPORT` (QEMU's user-network spelling): a TCP
 * server on the host whose every connection becomes a connection of the switch's host
 * endpoint (10.0.2.2) to a guest's port, bytes copied both ways.
 *
 * Flow control end to end: when the endpoint's send buffer is full the host socket is
 * paused until it drains; when the host socket's buffer is full the endpoint connection
 * stops reading, which closes its TCP window towards the guest. Half-closes pass through
 * (the host's end becomes a FIN to the guest, the guest's FIN ends the host socket); a
 * reset or timeout on either side resets the other.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { CodedError } from '../../errors/CodedError.ts';
import { formatIpv4, NET, VM_NAME_PATTERN } from '../netContract.ts';
import type { HostEndpoint } from './HostEndpoint.ts';
import type { TcpConnection } from './TcpConnection.ts';
import { TcpError } from './TcpError.ts';

export class HostFwdError extends CodedError<'bad-hostfwd' | 'listen'> {
  override readonly name = 'HostFwdError';
}

export interface HostFwdRule {
  /** As given, for messages. */
  text: string;
  hostAddress: string;
  /** 0: any free port (the one bound is printed). */
  hostPort: number;
  /** A VM name or a dotted IPv4 address on the guests' network; undefined: the (first) guest. */
  guest: string | undefined;
  guestPort: number;
}

/**
 * Parses `tcp:[HOSTADDR]:HOSTPORT-[GUEST]:GUESTPORT`. An empty HOSTADDR means 127.0.0.1
 * (QEMU binds every interface; a guest's server is not put on the host's network unless
 * asked); GUEST is an address on 10.0.2.0/24 or a VM's name, empty for the first guest.
 */
export function parseHostFwd(spec: string): HostFwdRule {
  const m = /^(tcp|udp):([^:]*):(\d{1,5})-([^:]*):(\d{1,5})$/.exec(spec);
  const bad = (why: string) => new HostFwdError('bad-hostfwd', `--hostfwd "${spec}": ${why} (tcp:127.0.0.1:HOSTPORT-:GUESTPORT)`);
  if (!m) throw bad('not PROTOCOL:HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT');
  if (m[1] === 'udp') throw bad('only tcp is forwarded');
  const hostPort = Number(m[3]);
  const guestPort = Number(m[5]);
  if (hostPort > 65535) throw bad(`host port ${hostPort} is not 0-65535`);
  if (guestPort < 1 || guestPort > 65535) throw bad(`guest port ${guestPort} is not 1-65535`);
  const hostAddress = m[2] || '127.0.0.1';
  const guest = m[4] || undefined;
  if (guest !== undefined && !VM_NAME_PATTERN.test(guest) && parseGuestIp(guest) === undefined) {
    throw bad(`guest "${guest}" is neither an address on ${formatIpv4(NET.network)}/${NET.prefixLength} nor a VM name`);
  }
  return { text: spec, hostAddress, hostPort, guest, guestPort };
}

/** A dotted address on the guests' network, or undefined. */
export function parseGuestIp(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  const ip = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  return (ip & NET.netmask) >>> 0 === NET.network ? ip : undefined;
}

/** Where a new host connection goes now: the endpoint and the guest's address, or why not. */
export type ForwardTarget = { endpoint: HostEndpoint; ip: number } | { refused: string };

export class HostForwarder {
  /** Connections forwarded so far, and those refused (no guest yet, the guest said no). */
  readonly stats = { accepted: 0, refused: 0 };
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly rule: HostFwdRule,
    private readonly server: Server,
    /** The host port bound (the rule's, or the one the system chose for 0). */
    readonly port: number,
  ) {}

  /** Listens on the rule's host address and port; `target` is asked at each connection. */
  static async listen(rule: HostFwdRule, target: () => ForwardTarget, onNote: (line: string) => void = () => {}): Promise<HostForwarder> {
    let fwd: HostForwarder | undefined;
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (sock) => fwd?.forward(sock, target(), onNote));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new HostFwdError('listen', `--hostfwd ${rule.text}: cannot listen on ${rule.hostAddress}:${rule.hostPort}: ${e.code ?? e.message}`)));
      server.listen(rule.hostPort, rule.hostAddress, () => resolve());
    });
    const address = server.address();
    fwd = new HostForwarder(rule, server, typeof address === 'object' && address ? address.port : rule.hostPort);
    server.on('error', () => {}); // after listening: per-socket errors are handled there
    return fwd;
  }

  /** Stops listening and resets every forwarded connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private forward(sock: Socket, to: ForwardTarget, onNote: (line: string) => void): void {
    if ('refused' in to) {
      this.stats.refused++;
      onNote(`romvisor: --hostfwd ${this.rule.text}: ${to.refused}\n`);
      sock.destroy();
      return;
    }
    let conn: TcpConnection;
    try {
      conn = to.endpoint.connect(to.ip, this.rule.guestPort);
    } catch (e) {
      if (!(e instanceof TcpError)) throw e;
      this.stats.refused++;
      onNote(`romvisor: --hostfwd ${this.rule.text}: ${e.message}\n`);
      sock.destroy();
      return;
    }
    this.stats.accepted++;
    this.sockets.add(sock);
    // Host to guest: what the endpoint's buffer cannot take yet waits here, the socket paused.
    let pending: Uint8Array | undefined;
    let hostEnded = false;
    const push = () => {
      try {
        while (pending) {
          const n = conn.write(pending);
          pending = n < pending.length ? pending.subarray(n) : undefined;
          if (n === 0) return;
        }
        if (hostEnded) conn.end();
        else sock.resume();
      } catch (e) {
        if (!(e instanceof TcpError)) throw e;
        sock.destroy();
      }
    };
    sock.on('data', (b: Buffer) => {
      pending = b;
      sock.pause();
      push();
    });
    sock.on('end', () => {
      hostEnded = true;
      if (!pending) conn.end();
    });
    conn.onDrain = push;
    // Guest to host: a full socket buffer stops the connection reading (its window closes).
    conn.onData = (b) => {
      if (!sock.write(b)) {
        conn.pause();
        sock.once('drain', () => conn.resume());
      }
    };
    conn.onEnd = () => sock.end();
    conn.onClose = (error) => {
      if (error) {
        onNote(`romvisor: --hostfwd ${this.rule.text}: ${error.message}\n`);
        sock.resetAndDestroy();
      }
    };
    sock.on('error', () => {});
    sock.on('close', (hadError) => {
      this.sockets.delete(sock);
      // The host side went away abruptly (or romvisor is closing): the guest gets a reset.
      if (hadError || !hostEnded) conn.abort();
    });
  }
}
