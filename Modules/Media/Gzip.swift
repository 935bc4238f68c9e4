// Reading .gz (or plain) files through zlib, with a size cap. gzread returns 0, not -1, on a
// truncated stream, so gzerror is checked after the loop.
import Foundation
import CZlib

public enum Gzip {
    /// The decompressed contents of `path` (plain files pass through), at most `maxBytes`.
    public static func read(_ path: String, maxBytes: Int = 1 << 30) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw MediaError(path, "no such file") }
        guard let f = gzopen(path, "rb") else { throw MediaError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { gzclose(f) }
        var out = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { break }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
            guard out.count <= maxBytes else { throw MediaError(path, "decompressed data exceeds \(maxBytes) bytes") }
        }
        var code: Int32 = 0
        let msg = String(cString: gzerror(f, &code))
        if code != Z_OK && code != Z_STREAM_END {
            throw MediaError(path, "corrupt or truncated gzip data (\(msg))")
        }
        return out
    }
}
