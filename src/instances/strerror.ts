/** strerror() wording of the errno codes postfleet reports, as Postfix and postmulti print them. */
const MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EIO: 'Input/output error',
  ENOEXEC: 'Exec format error',
  E2BIG: 'Argument list too long',
  ENOMEM: 'Cannot allocate memory',
  ETXTBSY: 'Text file busy',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty',
  EBUSY: 'Device or resource busy',
  EXDEV: 'Invalid cross-device link',
  EINVAL: 'Invalid argument',
  EDQUOT: 'Disk quota exceeded',
  EMFILE: 'Too many open files',
};

/** The message for an errno code, else the code itself. */
export function strerror(code: string): string {
  return MESSAGES[code] ?? code;
}
