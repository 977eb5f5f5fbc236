/**
 * The --hostfwd rules of a `romvisor boot` run: one HostForwarder each, listening before
 * the guests boot (a port in use is bad input, exit 2), each connection sent to the
 * guest the rule names (the first guest when it names none) through the switch's host
 * endpoint. The bound ports are announced on stderr (port 0 picks a free one).
 */
import type { EthernetSwitch, SwitchPort } from '../net/index.ts';
import { HostForwarder, parseGuestIp, parseHostFwd, type ForwardTarget } from '../net/host/HostForwarder.node.ts';
import type { CliIo } from './CliIo.ts';

/** Checks every rule's spelling (HostFwdError, exit 2). */
export function checkHostForwards(specs: readonly string[]): void {
  for (const s of specs) parseHostFwd(s);
}

/** Starts listening for every rule; `sw` gives the run's switch once it exists. Returns the closer. */
export async function startHostForwards(specs: readonly string[], sw: () => EthernetSwitch | undefined, io: CliIo): Promise<() => Promise<void>> {
  const forwarders: HostForwarder[] = [];
  const closeAll = async () => {
    for (const f of forwarders) await f.close();
  };
  try {
    for (const spec of specs) {
      const rule = parseHostFwd(spec);
      const target = (): ForwardTarget => {
        const s = sw();
        const vms = s?.portList.filter((p: SwitchPort) => p.kind === 'vm') ?? [];
        const ip = rule.guest === undefined ? vms[0]?.address : (parseGuestIp(rule.guest) ?? vms.find((p) => p.name.toLowerCase() === rule.guest!.toLowerCase())?.address);
        if (!s || ip === undefined) return { refused: rule.guest === undefined ? 'no guest on the network yet' : `no guest ${rule.guest} on the network` };
        return { endpoint: s.services.gateway, ip };
      };
      const fwd = await HostForwarder.listen(rule, target, (line) => io.stderr(line));
      forwarders.push(fwd);
      const guest = rule.guest ?? 'the guest';
      io.stderr(`romvisor: forwarding tcp:${rule.hostAddress}:${fwd.port} to ${guest} port ${rule.guestPort}\n`);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return closeAll;
}
