// Discrete Fourier transform of any length: iterative radix-2 for powers of two, Bluestein's chirp-z
// (three power-of-two FFTs) for every other length. Double precision: features are compared with
// librosa to 1e-3 and should not pick up float rounding here.
import Foundation

public final class FFT {
    public let n: Int
    let m: Int  // power-of-two size used internally
    let cosT: [Double], sinT: [Double]
    let rev: [Int]
    // Bluestein: chirp and the FFT of its conjugate, padded to m.
    let chirpRe: [Double], chirpIm: [Double]
    let kernelRe: [Double], kernelIm: [Double]

    /// Plans a transform of length n (reuse the plan for many transforms).
    ///
    ///     let fft = FFT(512); fft.forward(&re, &im)
    public init(_ n: Int) {
        precondition(n >= 1, "FFT length must be positive")
        self.n = n
        let pow2 = n & (n - 1) == 0
        var m = 1
        while m < (pow2 ? n : 2 * n - 1) { m <<= 1 }
        self.m = m
        let c = (0..<max(m / 2, 1)).map { Foundation.cos(-2 * Double.pi * Double($0) / Double(m)) }
        let s = (0..<max(m / 2, 1)).map { Foundation.sin(-2 * Double.pi * Double($0) / Double(m)) }
        var r = [Int](repeating: 0, count: m)
        var bits = 0
        while (1 << bits) < m { bits += 1 }
        for i in 0..<m {
            var x = i, y = 0
            for _ in 0..<bits {
                y = (y << 1) | (x & 1)
                x >>= 1
            }
            r[i] = y
        }
        cosT = c
        sinT = s
        rev = r
        if pow2 {
            chirpRe = []
            chirpIm = []
            kernelRe = []
            kernelIm = []
            return
        }
        // w_k = exp(−iπk²/n); k² mod 2n keeps the angle accurate for large k.
        var cr = [Double](repeating: 0, count: n), ci = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let a = Double.pi * Double((k * k) % (2 * n)) / Double(n)
            cr[k] = Foundation.cos(a)
            ci[k] = -Foundation.sin(a)
        }
        var br = [Double](repeating: 0, count: m), bi = [Double](repeating: 0, count: m)
        for k in 0..<n {
            br[k] = cr[k]
            bi[k] = -ci[k]
            if k > 0 {
                br[m - k] = cr[k]
                bi[m - k] = -ci[k]
            }
        }
        FFT.radix2(&br, &bi, c, s, r, inverse: false)
        chirpRe = cr
        chirpIm = ci
        kernelRe = br
        kernelIm = bi
    }

    /// In-place forward DFT: X[k] = Σ x[j]·e^{−2πijk/n}.
    public func forward(_ re: inout [Double], _ im: inout [Double]) {
        precondition(re.count == n && im.count == n, "FFT: expected \(n) values")
        if m == n {
            FFT.radix2(&re, &im, cosT, sinT, rev, inverse: false)
            return
        }
        var ar = [Double](repeating: 0, count: m), ai = [Double](repeating: 0, count: m)
        for k in 0..<n {
            ar[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k]
            ai[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k]
        }
        FFT.radix2(&ar, &ai, cosT, sinT, rev, inverse: false)
        for k in 0..<m {
            let r = ar[k] * kernelRe[k] - ai[k] * kernelIm[k]
            ai[k] = ar[k] * kernelIm[k] + ai[k] * kernelRe[k]
            ar[k] = r
        }
        FFT.radix2(&ar, &ai, cosT, sinT, rev, inverse: true)
        let s = 1 / Double(m)
        for k in 0..<n {
            let r = ar[k] * s, i = ai[k] * s
            re[k] = r * chirpRe[k] - i * chirpIm[k]
            im[k] = r * chirpIm[k] + i * chirpRe[k]
        }
    }

    static func radix2(
        _ re: inout [Double], _ im: inout [Double], _ cosT: [Double], _ sinT: [Double], _ rev: [Int], inverse: Bool
    ) {
        // Raw pointers: the array accessors' uniqueness and bounds checks cost more than the butterflies.
        re.withUnsafeMutableBufferPointer { rb in
            im.withUnsafeMutableBufferPointer { ib in
                cosT.withUnsafeBufferPointer { cb in
                    sinT.withUnsafeBufferPointer { sb in
                        rev.withUnsafeBufferPointer { vb in
                            let re = rb.baseAddress!, im = ib.baseAddress!, cosT = cb.baseAddress!,
                                sinT = sb.baseAddress!
                            let m = rb.count
                            for i in 0..<m where i < vb[i] {
                                let r = vb[i]
                                (re[i], re[r]) = (re[r], re[i])
                                (im[i], im[r]) = (im[r], im[i])
                            }
                            let sign: Double = inverse ? -1 : 1
                            var size = 2
                            while size <= m {
                                let halfSize = size / 2, step = m / size
                                var start = 0
                                while start < m {
                                    for j in 0..<halfSize {
                                        let wr = cosT[j * step], wi = sign * sinT[j * step]
                                        let a = start + j, b = a + halfSize
                                        let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                                        re[b] = re[a] - tr
                                        im[b] = im[a] - ti
                                        re[a] += tr
                                        im[a] += ti
                                    }
                                    start += size
                                }
                                size <<= 1
                            }
                        }
                    }
                }
            }
        }
    }
}
