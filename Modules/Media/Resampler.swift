// Band-limited resampling with a Kaiser-windowed sinc. For a rational ratio L/M (e.g. 44100→16000 is
// 160/441) the kernel is tabulated per output phase (polyphase). The cutoff sits at 90 % of the lower
// Nyquist frequency, so content above the new Nyquist is suppressed instead of aliasing.
import Foundation

public enum Resampler {
    /// Zero crossings of the sinc on each side (at the lower of the two rates).
    static let zeroCrossings = 24
    static let beta = 8.6

    /// Resamples `x` from `inRate` to `outRate` Hz.
    ///
    ///     let y = Resampler.resample(x, from: 44100, to: 16000)
    public static func resample(_ x: [Float], from inRate: Int, to outRate: Int) -> [Float] {
        precondition(inRate > 0 && outRate > 0, "resample: rates must be positive")
        if inRate == outRate || x.isEmpty { return x }
        let g = gcd(inRate, outRate)
        let up = outRate / g, down = inRate / g
        let ratio = Double(outRate) / Double(inRate)
        let scale = min(1, ratio)
        let fc = 0.5 * 0.9 * scale                      // cutoff in cycles per input sample
        let half = Int((Double(zeroCrossings) / scale).rounded(.up))
        let outCount = Int((Double(x.count) * ratio).rounded(.up))
        var y = [Float](repeating: 0, count: outCount)
        let i0beta = besselI0(beta)
        func h(_ t: Double) -> Double {
            let u = t / Double(half)
            if abs(u) >= 1 { return 0 }
            let w = besselI0(beta * (1 - u * u).squareRoot()) / i0beta
            let a = 2 * fc * t
            let sinc = abs(a) < 1e-12 ? 1 : sin(Double.pi * a) / (Double.pi * a)
            return 2 * fc * sinc * w
        }
        let taps = 2 * half
        let usePhases = up <= 4096 && up * taps <= 8_000_000
        var table: [Float] = []
        if usePhases {
            // Phase p: output position n with n·down ≡ p (mod up) sits p/up past input sample ⌊n·down/up⌋.
            table = [Float](repeating: 0, count: up * taps)
            for p in 0..<up {
                let frac = Double(p) / Double(up)
                for k in 0..<taps { table[p * taps + k] = Float(h(Double(k - half + 1) - frac)) }
            }
        }
        x.withUnsafeBufferPointer { xs in
            for n in 0..<outCount {
                let pos = n * down
                let i = pos / up, p = pos % up
                var s: Float = 0
                let start = i - half + 1
                if usePhases {
                    let row = p * taps
                    if start >= 0 && start + taps <= xs.count {
                        for k in 0..<taps { s += xs[start + k] * table[row + k] }
                    } else {
                        for k in 0..<taps { let j = start + k; if j >= 0 && j < xs.count { s += xs[j] * table[row + k] } }
                    }
                } else {
                    let frac = Double(p) / Double(up)
                    for k in 0..<taps {
                        let j = start + k
                        if j >= 0 && j < xs.count { s += xs[j] * Float(h(Double(k - half + 1) - frac)) }
                    }
                }
                y[n] = s
            }
        }
        return y
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
