import { CodedError } from '../errors/CodedError.ts';

/**
 * Linux errno numbers (asm-generic/errno-base.h, errno.h) that a share may answer with.
 * 9P2000.L carries them in Rlerror as they are, so they are Linux's numbers whatever the
 * host's own are (Node names an errno by its symbol, `code`, which is what maps here).
 */
export const LINUX_ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EPROTO: 71,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EDQUOT: 122,
} as const;

export type ShareErrorCode = keyof typeof LINUX_ERRNO;

/**
 * A file operation of the shared folder was refused: the guest sees `errno` in an Rlerror,
 * the host log sees the message (which names the request, the field and the value).
 */
export class ShareError extends CodedError<ShareErrorCode> {
  override readonly name = 'ShareError';
  constructor(code: ShareErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }

  /** The Linux errno the guest gets. */
  get errno(): number {
    return LINUX_ERRNO[this.code];
  }

  /**
   * Any error a backend raised, as a ShareError: Node's system errors keep their errno by
   * name (an errno Linux has no number for here becomes EIO); anything else is EIO.
   */
  static from(e: unknown, what: string): ShareError {
    if (e instanceof ShareError) return e;
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    // macOS answers O_NOFOLLOW on a symlink with EMLINK, Linux with ELOOP: one meaning.
    const known: ShareErrorCode = code === 'EMLINK' ? 'ELOOP' : code !== undefined && code in LINUX_ERRNO ? (code as ShareErrorCode) : 'EIO';
    return new ShareError(known, `${what}: ${(e as Error | undefined)?.message ?? String(e)}`, { cause: e });
  }
}
