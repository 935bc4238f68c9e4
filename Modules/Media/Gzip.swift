// Reading .gz (or plain) files through zlib, with a size cap, whole or piece by piece. gzread
// returns 0, not -1, on a truncated stream, so gzerror is checked after every short read.
import Foundation
import CZlib

/// An open .gz (or plain) file read in order.
public final class GzipReader {
    let path: String
    let file: gzFile

    public init(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw MediaError(path, "no such file") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw MediaError(path, "not a regular file") }
        guard let f = gzopen(path, "rb") else {
            throw MediaError(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        self.path = path
        file = f
    }
    deinit { gzclose(file) }

    /// Fills `buffer` as far as the data goes; returns how many bytes it got (fewer only at the end).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var got = 0
        while got < buffer.count {
            let want = UInt32(min(buffer.count - got, 1 << 30))
            let n = gzread(file, buffer.baseAddress! + got, want)
            if n <= 0 {
                try checkStream()
                break
            }
            got += Int(n)
        }
        return got
    }

    /// Exactly `count` bytes; a shorter file is an error naming `what`. Memory grows with the data that
    /// actually arrives, so a header that promises more than the file holds costs nothing.
    public func read(exactly count: Int, _ what: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Swift.min(count, 1 << 20))
        while out.count < count {
            let want = Swift.min(chunk.count, count - out.count)
            let n = try chunk.withUnsafeMutableBytes {
                try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]))
            }
            out.append(contentsOf: chunk[0..<n])
            if n < want { break }
        }
        guard out.count == count else { throw MediaError(path, "\(what) needs \(count) bytes, file has \(out.count)") }
        return out
    }

    /// True when no data is left (a trailing byte is read to find out).
    public func atEnd() throws -> Bool {
        var b: UInt8 = 0
        return try withUnsafeMutableBytes(of: &b) { try read(into: $0) } == 0
    }

    func checkStream() throws {
        var code: Int32 = 0
        let msg = String(cString: gzerror(file, &code))
        if code != Z_OK && code != Z_STREAM_END { throw MediaError(path, "corrupt or truncated gzip data (\(msg))") }
    }
}

public enum Gzip {
    /// The decompressed contents of `path` (plain files pass through), at most `maxBytes`.
    public static func read(_ path: String, maxBytes: Int = 1 << 30) throws -> Data {
        let r = try GzipReader(path)
        var out = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try r.read(into: $0) }
            out.append(contentsOf: chunk[0..<n])
            guard out.count <= maxBytes else { throw MediaError(path, "decompressed data exceeds \(maxBytes) bytes") }
            if n < chunk.count { break }
        }
        return out
    }
}
