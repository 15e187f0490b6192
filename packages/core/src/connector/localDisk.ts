// Whether a folder is on a disk of this machine or on a network file system,
// by the file system's type (statfs). On a local disk, creating a job's small
// file or directory takes microseconds and Baton does it synchronously: a hop
// through Node's thread pool (a thread woken, a completion queued back) costs
// more CPU than the call itself, on the cores the jobs need. On NFS, Lustre,
// GPFS, CIFS or FUSE a call may wait on a server, so it stays off the event loop.
import { statfsSync } from 'node:fs';

/** statfs f_type of the file systems that live on this machine's disks (or memory). */
const LOCAL_DISK_TYPES = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs (containers)
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
]);

/** True when `folder` is on a local disk; false on a network file system, or when it cannot tell. */
export function isOnLocalDisk(folder: string): boolean {
  try {
    return LOCAL_DISK_TYPES.has(statfsSync(folder).type >>> 0);
  } catch {
    return false;
  }
}
