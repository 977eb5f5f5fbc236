// The virtual network: a learning switch, its built-in services, capture. Public API of src/net/.
export type { PortKind, PortStats, PortSink, SwitchDelivery, SwitchPort } from './Types.ts';
export { EthernetSwitch, hostClockUs, PORT_QUEUE_FRAMES, type EthernetSwitchOptions, type SwitchStats, type SwitchTap } from './EthernetSwitch.ts';
export { Lockstep, QUANTUM_TICKS, ticksToUs, deliverFrames, runToBoundary, type LockstepPort, type QuantumHooks } from './Lockstep.ts';
export { NetServices, type NetServicesStats } from './NetServices.ts';
export { DhcpServer, DHCP, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type DhcpReply, type DhcpStats } from './DhcpServer.ts';
export { DnsServer, DNS_PORT, type DnsStats } from './DnsServer.ts';
export { AddressBook } from './AddressBook.ts';
export { PcapWriter, PCAP_SNAPLEN } from './PcapWriter.ts';
export { NetError, type NetErrorCode } from './NetError.ts';
export { NET, ipv4, formatIpv4, macFromName, nameHash, VM_NAME_PATTERN, VM_NAME_RULE, vmNameFrom, vmNameProblem } from './netContract.ts';
export * as frames from './ipv4Frames.ts';
