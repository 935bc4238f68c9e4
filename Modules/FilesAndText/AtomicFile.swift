// Every file dlpipe writes goes temp → fsync → rename, so a crash or Ctrl-C never leaves a half file
// under the final name. Temp names start with "." and end in ".tmp" so watchers can ignore them.
import Foundation

public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String, reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}

/// Writes `data` to `path` atomically (same-folder temp file, fsync, rename).
///
///     try writeFileAtomically(Data("hi".utf8), to: "out/report.txt")
public func writeFileAtomically(_ data: Data, to path: String) throws {
    try writeFilesTogether([(path, data)])
}

/// Writes files that belong together (a model and its metrics): every one goes to a temp file and is
/// fsynced first, and only when all of them are written are they renamed into place. A failure before
/// that leaves none of them behind; the temp files are removed.
public func writeFilesTogether(_ files: [(path: String, data: Data)]) throws {
    var temps: [String] = []
    defer {
        for t in temps {
            unlink(t)
            TemporaryFiles.remove(t)
        }
    }
    for (path, data) in files { temps.append(try writeTemporary(data, beside: path)) }
    for (tmp, file) in zip(temps, files) where rename(tmp, file.path) != 0 {
        throw FileWriteError(path: file.path, reason: String(cString: strerror(errno)))
    }
    for t in temps { TemporaryFiles.remove(t) }
    temps.removeAll()
}

/// Temp files being written or waiting for their rename, so a forced exit can remove them.
public enum TemporaryFiles {
    static let lock = NSLock()
    nonisolated(unsafe) static var active = Set<String>()

    static func add(_ p: String) {
        lock.lock()
        active.insert(p)
        lock.unlock()
    }
    static func remove(_ p: String) {
        lock.lock()
        active.remove(p)
        lock.unlock()
    }

    /// Unlinks every temp file still in progress (before exiting on a second Ctrl-C). It does not take
    /// the lock: it runs when the process is about to end, possibly while a writer holds it.
    public static func removeAll() { for p in active { unlink(p) } }
}

/// Removes temp files left in `dir` by processes that no longer run (killed with SIGKILL, or a machine
/// that lost power): ".NAME.PID.RAND.tmp" whose PID is gone. Once per folder per process: a folder
/// receiving thousands of files is listed once, not once per file.
func removeStaleTemporaries(in dir: String) {
    staleScanLock.lock()
    let first = staleScanned.insert(dir).inserted
    staleScanLock.unlock()
    guard first, let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
    for e in entries where e.hasPrefix(".") && e.hasSuffix(".tmp") {
        let parts = e.dropLast(4).split(separator: ".")
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), UInt32(parts[parts.count - 1]) != nil,
            pid != getpid()
        else { continue }
        if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir + "/" + e) }
    }
}
private let staleScanLock = NSLock()
nonisolated(unsafe) private var staleScanned = Set<String>()

/// Writes and fsyncs `data` to a temp file in `path`'s folder; returns the temp file's path.
private func writeTemporary(_ data: Data, beside path: String) throws -> String {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    removeStaleTemporaries(in: dir)
    let tmp = dir + "/." + url.lastPathComponent + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    TemporaryFiles.add(tmp)
    do { try writeNewFile(data, to: tmp, sync: true) } catch let e as FileWriteError {
        TemporaryFiles.remove(tmp)
        throw FileWriteError(path: path, reason: e.reason)
    }
    return tmp
}

/// Creates `path` (which must not exist), writes `data` and, with `sync`, fsyncs it; a failure removes
/// the file. Unsynced writes are for callers that flush a whole batch at once (the spool's group commit).
public func writeNewFile(_ data: Data, to path: String, sync: Bool) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
    var err: String?
    data.withUnsafeBytes { raw in
        var off = 0
        while off < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                err = String(cString: strerror(errno))
                return
            }
            off += n
        }
    }
    if err == nil && sync && fsync(fd) != 0 { err = String(cString: strerror(errno)) }
    close(fd)
    if let err {
        unlink(path)
        throw FileWriteError(path: path, reason: err)
    }
}
