// Band-limited resampling with a Kaiser-windowed sinc, polyphase: the kernel is tabulated at `phases`
// fractional offsets (at most 4096, and only as many as the rate ratio has), and an output sample
// between two tabulated offsets blends their taps linearly. So any rate pair — 44100→16000 (160/441) as
// well as 1 Hz→192 kHz — costs a bounded table and a fixed number of taps per output sample. The cutoff
// sits at 90 % of the lower Nyquist frequency, so content above the new Nyquist is suppressed instead of
// aliasing. Long resamplings check for Ctrl-C.
import Foundation
import Tensor

public enum Resampler {
    /// Zero crossings of the sinc on each side (at the lower of the two rates).
    static let zeroCrossings = 24
    static let beta = 8.6
    /// Most tabulated offsets: a ratio with more phases is blended between neighbours (the blend's
    /// error is far below the window's −80 dB stop band at this density).
    static let maxPhases = 4096
    /// Largest kernel table (16 MB): a steep downsampling has many taps, and then fewer phases.
    static let maxTableFloats = 1 << 22

    /// Resamples `x` from `inRate` to `outRate` Hz.
    ///
    ///     let y = try Resampler.resample(x, from: 44100, to: 16000)
    public static func resample(_ x: [Float], from inRate: Int, to outRate: Int) throws -> [Float] {
        precondition(inRate > 0 && outRate > 0, "resample: rates must be positive")
        if inRate == outRate || x.isEmpty { return x }
        let g = gcd(inRate, outRate)
        let up = outRate / g, down = inRate / g
        let ratio = Double(outRate) / Double(inRate)
        let scale = min(1, ratio)
        let fc = 0.5 * 0.9 * scale  // cutoff in cycles per input sample
        let half = Int((Double(zeroCrossings) / scale).rounded(.up))
        let taps = 2 * half
        let outCount = Int((Double(x.count) * ratio).rounded(.up))
        // Exact phases when the ratio has few; otherwise a bounded number of offsets and a linear blend
        // (one extra row, for offsets between the last one and the next input sample).
        let budget = max(64, maxTableFloats / taps)
        let exact = up <= min(maxPhases, budget)
        let phases = exact ? up : min(maxPhases, budget)
        let table = kernelTable(rows: phases + (exact ? 0 : 1), perSample: phases, taps: taps, half: half, fc: fc)
        var y = [Float](repeating: 0, count: outCount)
        let blended = UnsafeMutablePointer<Float>.allocate(capacity: taps)
        defer {
            blended.deallocate()
            table.deallocate()
        }
        try x.withUnsafeBufferPointer { xs in
            for n in 0..<outCount {
                if n & 0xFFFF == 0 { try Interruption.check() }
                let pos = n * down  // in units of 1/up input samples
                let i = pos / up, rem = pos % up
                let start = i - half + 1
                let row: UnsafePointer<Float>
                if exact {
                    row = UnsafePointer(table.baseAddress! + rem * taps)
                } else {
                    let f = Double(rem) / Double(up) * Double(phases)
                    let p = Int(f), w = Float(f - Double(p))
                    let a = table.baseAddress! + p * taps, b = a + taps
                    for k in 0..<taps { blended[k] = a[k] + w * (b[k] - a[k]) }
                    row = UnsafePointer(blended)
                }
                var s: Float = 0
                if start >= 0 && start + taps <= xs.count {
                    for k in 0..<taps { s += xs[start + k] * row[k] }
                } else {
                    for k in 0..<taps {
                        let j = start + k
                        if j >= 0 && j < xs.count { s += xs[j] * row[k] }
                    }
                }
                y[n] = s
            }
        }
        return y
    }

    /// Row p holds the kernel for an output p/perSample of an input sample past its left neighbour.
    static func kernelTable(rows: Int, perSample: Int, taps: Int, half: Int, fc: Double) -> UnsafeMutableBufferPointer<
        Float
    > {
        let t = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * taps)
        let i0beta = besselI0(beta)
        for p in 0..<rows {
            let frac = Double(p) / Double(perSample)
            for k in 0..<taps {
                let tt = Double(k - half + 1) - frac
                let u = tt / Double(half)
                var v = 0.0
                if abs(u) < 1 {
                    let w = besselI0(beta * (1 - u * u).squareRoot()) / i0beta
                    let a = 2 * fc * tt
                    let sinc = abs(a) < 1e-12 ? 1 : sin(Double.pi * a) / (Double.pi * a)
                    v = 2 * fc * sinc * w
                }
                t[p * taps + k] = Float(v)
            }
        }
        return t
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Modified Bessel function of the first kind, order 0 (series).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let q = x * x / 4
        for k in 1..<64 {
            term *= q / Double(k * k)
            sum += term
            if term < 1e-12 * sum { break }
        }
        return sum
    }
}
