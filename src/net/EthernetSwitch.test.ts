// The learning switch: flooding and learning, bounded per-port queues with counted drops,
// fair forwarding under a flood, manual (lockstep) delivery, taps, detaching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EthernetSwitch, NET, NetError, ipv4, macFromName, type SwitchPort } from './index.ts';
import { HostEndpoint } from './host/index.ts';

const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

function frame(dst: Uint8Array, src: Uint8Array, tag = 0): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88; // a local experimental EtherType: the services ignore it
  f[13] = 0xb5;
  f[14] = tag;
  return f;
}

function lan(names: string[], opts: { queueFrames?: number } = {}) {
  const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => 0, ...opts });
  const got = new Map<string, Uint8Array[]>();
  const ports = new Map<string, SwitchPort>();
  for (const n of names) {
    got.set(n, []);
    ports.set(n, sw.attach('vm', n, (f) => got.get(n)!.push(f)));
  }
  return { sw, got, ports, mac: (n: string) => macFromName(n) };
}

describe('EthernetSwitch: learning', () => {
  it('floods a frame for an unknown MAC to every other port, then sends replies to the learnt port only', () => {
    const { sw, got, ports, mac } = lan(['a', 'b', 'c']);
    ports.get('a')!.send(frame(mac('b'), mac('a'), 1));
    sw.pump();
    assert.equal(got.get('b')!.length, 1);
    assert.equal(got.get('c')!.length, 1, 'unknown destination: flooded');
    assert.equal(got.get('a')!.length, 0, 'never back to the sender');
    ports.get('b')!.send(frame(mac('a'), mac('b'), 2));
    sw.pump();
    assert.equal(got.get('a')!.length, 1);
    assert.equal(got.get('c')!.length, 1, 'a was learnt: c does not see the reply');
    assert.equal(sw.stats.forwarded, 1);
    assert.equal(sw.stats.flooded, 1);
  });

  it('floods broadcasts always, and holds frames until pump() in manual delivery', () => {
    const { sw, got, ports, mac } = lan(['a', 'b']);
    ports.get('a')!.send(frame(BCAST, mac('a')));
    assert.equal(got.get('b')!.length, 0, 'nothing moves before pump()');
    assert.equal(sw.pump(), 1);
    assert.equal(got.get('b')!.length, 1);
  });

  it('moves frames by itself a microtask after send in immediate delivery', async () => {
    const sw = new EthernetSwitch({ delivery: 'immediate', clockUs: () => 0 });
    const got: Uint8Array[] = [];
    const a = sw.attach('vm', 'a', () => {});
    sw.attach('vm', 'b', (f) => got.push(f));
    a.send(frame(BCAST, macFromName('a')));
    assert.equal(got.length, 0);
    await Promise.resolve();
    assert.equal(got.length, 1);
  });

  it('forgets a detached port: its MACs, its address, its name', () => {
    const { sw, got, ports, mac } = lan(['a', 'b', 'c']);
    ports.get('b')!.send(frame(BCAST, mac('b')));
    sw.pump();
    const address = ports.get('b')!.address;
    ports.get('b')!.detach();
    assert.equal(sw.book.lookup('b'), undefined);
    ports.get('a')!.send(frame(mac('b'), mac('a')));
    sw.pump();
    assert.equal(got.get('c')!.length, 2, 'b is unknown again: flooded');
    const again = sw.attach('vm', 'b', () => {});
    assert.equal(again.address, address, 'the name gets its address back');
  });
});

describe('EthernetSwitch: ports', () => {
  it('gives VM ports stable addresses from their names, in 10.0.2.15 and up', () => {
    const one = lan(['web', 'client']);
    const two = lan(['client', 'web']);
    for (const n of ['web', 'client']) {
      const a = one.ports.get(n)!.address!;
      assert.equal(a, two.ports.get(n)!.address, `${n} has the same address whatever the order`);
      assert.ok(a >= NET.firstGuest && a < NET.firstGuest + NET.guestCount);
    }
    assert.notEqual(one.ports.get('web')!.address, one.ports.get('client')!.address);
  });

  it('refuses a second VM of the same name and a name that is not a host name', () => {
    const { sw } = lan(['web']);
    assert.throws(() => sw.attach('vm', 'WEB', () => {}), (e) => e instanceof NetError && e.code === 'bad-port' && /already/.test(e.message));
    assert.throws(() => sw.attach('vm', 'no_underscores', () => {}), (e) => e instanceof NetError && /not a host name/.test(e.message));
    assert.throws(() => sw.attach('vm', '-x', () => {}), NetError);
  });

  it('has the services port first and counts what each port sent and received', () => {
    const { sw, ports, mac } = lan(['a', 'b']);
    assert.equal(sw.portList[0]!.kind, 'services');
    ports.get('a')!.send(frame(BCAST, mac('a')));
    sw.pump();
    assert.deepEqual(ports.get('a')!.stats, { sentFrames: 1, sentBytes: 60, receivedFrames: 0, receivedBytes: 0, dropped: 0 });
    assert.deepEqual(ports.get('b')!.stats, { sentFrames: 0, sentBytes: 0, receivedFrames: 1, receivedBytes: 60, dropped: 0 });
  });
});

describe('EthernetSwitch: bounded queues', () => {
  it('drops and counts what a flooding port sends past its inbound queue, and still forwards the others fairly', () => {
    const { sw, got, ports, mac } = lan(['flood', 'quiet', 'sink'], { queueFrames: 16 });
    // Teach the switch where sink and quiet are.
    ports.get('sink')!.send(frame(BCAST, mac('sink')));
    ports.get('quiet')!.send(frame(BCAST, mac('quiet')));
    sw.pump();
    got.get('sink')!.length = 0;
    for (let i = 0; i < 100; i++) ports.get('flood')!.send(frame(mac('sink'), mac('flood'), 1));
    ports.get('quiet')!.send(frame(mac('sink'), mac('quiet'), 2));
    assert.equal(ports.get('flood')!.stats.dropped, 84);
    sw.pump();
    const tags = got.get('sink')!.map((f) => f[14]);
    assert.equal(tags.length, 16, "sink's outbound queue holds 16 frames");
    assert.ok(tags.includes(2), 'the quiet port got through despite the flood');
    assert.equal(tags.indexOf(2), 1, 'one frame from each port in turn');
    assert.equal(ports.get('sink')!.stats.dropped, 1, "the flood's 17th frame found sink's queue full");
  });

  it('drops a runt frame shorter than an Ethernet header and counts it', () => {
    const { sw, ports } = lan(['a']);
    ports.get('a')!.send(new Uint8Array(10));
    sw.pump();
    assert.equal(ports.get('a')!.stats.dropped, 1);
  });
});

describe('EthernetSwitch: taps', () => {
  it('shows every frame entering the switch with the clock at pump time', () => {
    let now = 5_000_000;
    const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => now });
    const seen: [number, number][] = [];
    const off = sw.tap((f, t) => seen.push([f[14]!, t]));
    const a = sw.attach('vm', 'a', () => {});
    sw.attach('vm', 'b', () => {});
    a.send(frame(BCAST, macFromName('a'), 7));
    sw.pump();
    now += 1000;
    off();
    a.send(frame(BCAST, macFromName('a'), 8));
    sw.pump();
    assert.deepEqual(seen, [[7, 5_000_000]]);
  });
});

describe('EthernetSwitch: the gateway in manual (lockstep) delivery', () => {
  it('sends what its connections gather (an echo of what arrived) in the pump that delivered it, not at the next quantum', async () => {
    const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => 0 });
    let port: SwitchPort | undefined;
    const guest = new HostEndpoint({ ip: ipv4(10, 0, 2, 15), mac: macFromName('g'), clockUs: () => 0, send: (f) => port!.send(f) });
    port = sw.attach('vm', 'g', (f) => void guest.receive(f));
    sw.services.gateway.listen(7, (conn) => (conn.onData = (b) => conn.write(b)));
    const c = guest.connect(NET.gateway, 7);
    const echoed: number[] = [];
    c.onData = (b) => echoed.push(...b);
    // The guest stack gathers its output to a microtask; each pump stands for a quantum.
    for (let quantum = 0; quantum < 4 && c.state !== 'established'; quantum++) {
      await Promise.resolve();
      sw.pump();
    }
    assert.equal(c.state, 'established');
    c.write(Uint8Array.of(1, 2, 3));
    await Promise.resolve();
    sw.pump();
    assert.deepEqual(echoed, [1, 2, 3], 'the echo crossed back in the same pump');
  });
});
