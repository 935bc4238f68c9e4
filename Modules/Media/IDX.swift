// IDX files (MNIST / Fashion-MNIST, optionally gzipped): big-endian magic 0x0000 08 NDIM, then NDIM
// big-endian u32 sizes, then unsigned bytes. Sizes are checked against the data before use.
import Foundation
import Tensor

public enum IDX {
    /// Reads an unsigned-byte IDX file: shape and raw values.
    public static func read(_ path: String) throws -> (shape: [Int], values: [UInt8]) {
        let d = try Gzip.read(path)
        guard d.count >= 4 else { throw MediaError(path, "too short for an IDX header") }
        let b = [UInt8](d)
        guard b[0] == 0, b[1] == 0 else { throw MediaError(path, "not an IDX file (bad magic)") }
        guard b[2] == 0x08 else { throw MediaError(path, "IDX type 0x\(String(b[2], radix: 16)) is not unsigned byte") }
        let ndim = Int(b[3])
        guard ndim >= 1, ndim <= 4, b.count >= 4 + 4 * ndim else { throw MediaError(path, "bad IDX dimension count \(ndim)") }
        var shape: [Int] = []
        var total = 1
        for i in 0..<ndim {
            let o = 4 + 4 * i
            let s = Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
            shape.append(s)
            total *= s
            guard total <= b.count else { throw MediaError(path, "IDX shape \(shape) larger than the file") }
        }
        let start = 4 + 4 * ndim
        guard b.count - start == total else {
            throw MediaError(path, "IDX shape \(shape) needs \(total) bytes, file has \(b.count - start)")
        }
        return (shape, Array(b[start...]))
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
