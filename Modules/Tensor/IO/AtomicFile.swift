// Every file dlpipe writes goes temp → fsync → rename, so a crash or Ctrl-C never leaves a half file
// under the final name. Temp names start with "." and end in ".tmp" so watchers can ignore them.
import Foundation

public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String, reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Writes `data` to `path` atomically (same-folder temp file, fsync, rename).
///
///     try writeFileAtomically(Data("hi".utf8), to: "out/report.txt")
public func writeFileAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    let tmp = dir + "/." + url.lastPathComponent + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
    var ok = true
    var err = ""
    data.withUnsafeBytes { raw in
        var off = 0
        while off < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
            if n < 0 { if errno == EINTR { continue }; ok = false; err = String(cString: strerror(errno)); return }
            off += n
        }
    }
    if ok && fsync(fd) != 0 { ok = false; err = String(cString: strerror(errno)) }
    close(fd)
    if ok && rename(tmp, path) != 0 { ok = false; err = String(cString: strerror(errno)) }
    if !ok {
        unlink(tmp)
        throw FileWriteError(path: path, reason: err)
    }
}
