// Waits for files to arrive in inbox/: inotify wakes the worker the moment a file is renamed (or
// written) into it; the worker also looks every `pollInterval` regardless, because inotify is not
// available everywhere and does not see files that other machines drop into a shared (NFS) spool.
import Foundation
import Tensor
import FilesAndText

final class InboxWatcher {
    let folder: String
    let pollInterval: Double
    private var fd: Int32 = -1

    init(_ folder: String, pollInterval: Double) {
        self.folder = folder
        self.pollInterval = pollInterval
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd >= 0 && inotify_add_watch(fd, folder, UInt32(IN_MOVED_TO | IN_CLOSE_WRITE)) >= 0 {
            self.fd = fd
        } else if fd >= 0 {
            close(fd)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// "inotify" or "polling every N s".
    var mode: String {
        fd >= 0
            ? "inotify (and a look every \(jsonNumber(pollInterval)) s)" : "polling every \(jsonNumber(pollInterval)) s"
    }

    /// Returns when something may have arrived, after `pollInterval` at the latest, or sooner when
    /// `stop()` turns true (checked every 100 ms).
    func wait(stop: () -> Bool) {
        let deadline = Date().addingTimeInterval(pollInterval)
        while !stop() {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            let slice = Int32(min(left, 0.1) * 1000) + 1
            if fd >= 0 {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, slice) > 0 {
                    drain()
                    return
                }
            } else {
                usleep(UInt32(slice) * 1000)
            }
        }
    }

    /// Reads the pending events; only "something happened" matters, the inbox is listed afterwards.
    private func drain() {
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        while read(fd, &buf, buf.count) > 0 {}
    }
}
