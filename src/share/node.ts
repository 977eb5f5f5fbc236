// Node-only shared-folder backends.
export { HostDirShare, type HostDirShareOptions } from './HostDirShare.node.ts';
