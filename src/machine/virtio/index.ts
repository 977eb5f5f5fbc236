// virtio devices over virtio-mmio: the public API of src/machine/virtio/.
export type { VirtioDevice, VirtioDeviceHost } from './Types.ts';
export { VirtioError, type VirtioErrorCode } from './VirtioError.ts';
export { GuestMemory, type RamRange } from './GuestMemory.ts';
export { Virtqueue, MAX_QUEUE_SIZE, type DescriptorChain, type VirtqueueLayout } from './Virtqueue.ts';
export {
  VirtioMmioTransport,
  VIRTIO_F_VERSION_1,
  STATUS_ACKNOWLEDGE,
  STATUS_DRIVER,
  STATUS_DRIVER_OK,
  STATUS_FEATURES_OK,
  STATUS_DEVICE_NEEDS_RESET,
  STATUS_FAILED,
  INTERRUPT_USED_BUFFER,
  INTERRUPT_CONFIG_CHANGE,
  type QueueState,
  type TransportState,
} from './VirtioMmioTransport.ts';
export { CompletionScheduler, DETERMINISTIC_LATENCY, type WorkOutcome } from './CompletionScheduler.ts';
export {
  VirtioBlk,
  VIRTIO_ID_BLOCK,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_UNSUPP,
  MAX_REQUEST_BYTES,
  type BlockDevice,
  type VirtioBlkOptions,
  type VirtioBlkStats,
  type BlkCompletion,
} from './VirtioBlk.ts';
export {
  VirtioConsole,
  VIRTIO_ID_CONSOLE,
  VIRTIO_CONSOLE_F_SIZE,
  CONSOLE_RECEIVEQ,
  CONSOLE_TRANSMITQ,
  MAX_TRANSMIT_BYTES,
  DEFAULT_CONSOLE_SIZE,
  type ConsoleSize,
  type VirtioConsoleStats,
} from './VirtioConsole.ts';
export {
  VirtioNet,
  VIRTIO_ID_NET,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_S_LINK_UP,
  NET_RECEIVEQ,
  NET_TRANSMITQ,
  NET_HDR_BYTES,
  ETHERNET_HEADER_BYTES,
  MAX_FRAME_BYTES,
  RX_QUEUE_FRAMES,
  type VirtioNetOptions,
  type VirtioNetStats,
} from './VirtioNet.ts';
export {
  Virtio9p,
  VIRTIO_ID_9P,
  VIRTIO_9P_MOUNT_TAG,
  DEFAULT_MOUNT_TAG,
  type NinePHandler,
  type Virtio9pStats,
} from './Virtio9p.ts';
