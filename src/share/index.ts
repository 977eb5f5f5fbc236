// Shared folders for virtio-9p: the public API of src/share/. The host-directory backend
// (node only) is in ./node.ts.
export { checkName, type ShareBackend, type ShareHandle, type ShareStat, type ShareKind, type SharePath, type ShareDirEntry, type ShareOpenMode, type ShareAttrChanges, type ShareFsStat } from './ShareBackend.ts';
export { ShareError, LINUX_ERRNO, type ShareErrorCode } from './ShareError.ts';
export { NinePServer, MAX_MSIZE, MIN_MSIZE, type NinePServerOptions, type NinePServerStats } from './NinePServer.ts';
export { NinePReader, NinePWriter, P9, QTDIR, QTSYMLINK, QTFILE, HEADER_BYTES, messageName, type Qid } from './NinePMessage.ts';
export { MemoryShare, type MemoryShareOptions, type MemoryShareEntry } from './MemoryShare.ts';
