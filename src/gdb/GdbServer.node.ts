// Node-only: the gdb stub on a TCP port, as QEMU's `-gdb tcp::PORT` (`-s` = tcp::1234).
// One debugger at a time: a second connection is refused while one is attached. The port
// listens on 127.0.0.1 unless a host is named: whoever connects can read and write the
// guest's memory.
import { createServer, type Server, type Socket } from 'node:net';
import type { Vm } from '../machine/Vm.ts';
import { CodedError } from '../errors/CodedError.ts';
import { GdbStub } from './GdbStub.ts';

export class GdbAddressError extends CodedError<'bad-gdb-address' | 'gdb-listen'> {
  override readonly name = 'GdbAddressError';
}

export interface GdbAddress {
  host: string;
  port: number;
}

/** QEMU's device spelling: `tcp::1234`, `tcp:HOST:1234`, or a bare port. */
export function parseGdbAddress(text: string): GdbAddress {
  const m = /^(?:tcp:)?(?:([^:]*):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new GdbAddressError('bad-gdb-address', `--gdb "${text}" is not tcp::PORT or tcp:HOST:PORT`);
  return { host: m[1] || '127.0.0.1', port };
}

export class GdbServer {
  readonly stub: GdbStub;
  /** gdb asked to kill the target. */
  killed = false;
  private socket: Socket | undefined;

  private constructor(
    private readonly server: Server,
    vm: Vm,
    startHalted: boolean,
  ) {
    this.stub = new GdbStub(
      vm,
      {
        send: (bytes) => this.socket?.write(bytes),
        kill: () => {
          this.killed = true;
          this.stub.halted = false;
          this.socket?.end();
        },
      },
      { startHalted },
    );
    server.on('connection', (s) => this.accept(s));
  }

  /** Listens on `address`; the port actually bound (for port 0) is `port`. */
  static async listen(vm: Vm, address: GdbAddress, startHalted: boolean): Promise<GdbServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new GdbAddressError('gdb-listen', `--gdb tcp:${address.host}:${address.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
      server.listen(address.port, address.host, () => resolve());
    });
    return new GdbServer(server, vm, startHalted);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private accept(socket: Socket): void {
    if (this.socket) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    this.stub.attach();
    socket.on('data', (b: Buffer) => this.stub.receive(b));
    const gone = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stub.attached) this.stub.detach();
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }

  async dispose(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
