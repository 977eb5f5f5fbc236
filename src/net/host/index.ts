// The host's TCP/IP endpoint on a switch (10.0.2.2): ARP, IPv4, ICMP echo, TCP. Public API of src/net/host/.
export { HostEndpoint, MAX_CONNECTIONS, type AcceptHandler, type HostEndpointOptions, type HostEndpointStats } from './HostEndpoint.ts';
export { TcpConnection, OUR_MSS, RECV_WINDOW, SEND_BUFFER, TIME_WAIT_US, type TcpAddress, type TcpState } from './TcpConnection.ts';
export { TcpError, type TcpErrorCode } from './TcpError.ts';
export { IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, readTcp, tcpSegment, tcpFlagNames, type TcpSegment } from './tcpSegment.ts';
