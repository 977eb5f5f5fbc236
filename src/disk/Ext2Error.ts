import { CodedError } from '../errors/CodedError.ts';

export type Ext2ErrorCode =
  | 'bad-magic'
  | 'bad-superblock'
  | 'unsupported-feature'
  | 'block-out-of-range'
  | 'bad-inode'
  | 'bad-extent'
  | 'bad-directory'
  | 'not-found'
  | 'not-a-directory'
  | 'not-a-file'
  | 'too-large'
  | 'symlink-loop';

export class Ext2Error extends CodedError<Ext2ErrorCode> {
  override readonly name = 'Ext2Error';
  constructor(
    code: Ext2ErrorCode,
    message: string,
    /** Byte offset in the file system of the field at fault, when there is one. */
    readonly offset?: number,
  ) {
    super(code, message);
  }
}
