// IDX files (MNIST / Fashion-MNIST, optionally gzipped): big-endian magic 0x0000 08 NDIM, then NDIM
// big-endian u32 sizes, then unsigned bytes. Sizes are checked against the data before use.
import Foundation
import Tensor

public enum IDX {
    /// Most values one file may hold (Fashion-MNIST's training images are 47 M; 2^28 bytes become a
    /// 1 GiB Float tensor).
    public static let maxValues = 1 << 28

    /// Reads an unsigned-byte IDX file: shape and raw values. The header is read first and only the
    /// bytes it promises are read after it, so a small .gz cannot unpack into more than that.
    public static func read(_ path: String) throws -> (shape: [Int], values: [UInt8]) {
        let r = try GzipReader(path)
        var head = [UInt8](repeating: 0, count: 4)
        guard try head.withUnsafeMutableBytes({ try r.read(into: $0) }) == 4 else {
            throw MediaError(path, "too short for an IDX header")
        }
        guard head[0] == 0, head[1] == 0 else { throw MediaError(path, "not an IDX file (bad magic)") }
        guard head[2] == 0x08 else {
            throw MediaError(path, "IDX type 0x\(String(head[2], radix: 16)) is not unsigned byte")
        }
        let ndim = Int(head[3])
        guard ndim >= 1, ndim <= 4 else { throw MediaError(path, "bad IDX dimension count \(ndim)") }
        let dims = try r.read(exactly: 4 * ndim, "an IDX header with \(ndim) dimensions")
        var shape: [Int] = []
        var total = 1
        for i in 0..<ndim {
            let o = 4 * i
            let s = Int(dims[o]) << 24 | Int(dims[o + 1]) << 16 | Int(dims[o + 2]) << 8 | Int(dims[o + 3])
            guard s > 0 else { throw MediaError(path, "IDX dimension \(i + 1) of \(ndim) is 0") }
            shape.append(s)
            total *= s
            guard total <= maxValues else {
                throw MediaError(path, "IDX shape \(shape) holds more than \(maxValues) values")
            }
        }
        let values = try r.read(exactly: total, "IDX shape \(shape)")
        guard try r.atEnd() else { throw MediaError(path, "IDX shape \(shape) needs \(total) bytes, file has more") }
        return (shape, values)
    }

    /// Images [N, H, W] as a tensor [N, 1, H, W] in [0,1], plus labels from a matching label file.
    public static func readImages(_ imagesPath: String, labels labelsPath: String) throws -> (Tensor, [Int]) {
        let (s, v) = try read(imagesPath)
        guard s.count == 3 else { throw MediaError(imagesPath, "expected 3 dimensions [N, H, W], got \(s)") }
        let (ls, lv) = try read(labelsPath)
        guard ls.count == 1, ls[0] == s[0] else {
            throw MediaError(labelsPath, "has \(ls) labels for \(s[0]) images in \(imagesPath)")
        }
        let t = Tensor(uninitialized: [s[0], 1, s[1], s[2]])
        for i in 0..<v.count { t.data[i] = Float(v[i]) / 255 }
        return (t, lv.map { Int($0) })
    }
}
