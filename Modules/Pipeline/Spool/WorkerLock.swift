// A worker's liveness on the spool: it holds flock on work/<id>.lock for as long as it runs. The kernel
// drops the lock when the process dies in any way (SIGKILL included), so whoever can take a worker's lock
// knows that worker is gone and may recover its folder. (On NFS, Linux maps flock to POSIX locks, which
// the server also releases when the client process dies.)
import Foundation
import Tensor
import FilesAndText

public final class WorkerLock {
    public let path: String
    private var fd: Int32

    /// Takes the lock at `path` (creating the file), or returns nil when a live process holds it.
    public init?(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(path: path, reason: "cannot open lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        self.path = path
        self.fd = fd
    }

    /// Removes the lock file, then lets go (the order means nobody can lock a file about to vanish and
    /// take it for a live worker's).
    public func remove() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether a live process holds the lock at `path` (taking it for a moment when nobody does).
    public static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0
    }
}
