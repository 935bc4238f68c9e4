// Seeded random numbers: xoshiro256** seeded by SplitMix64, so a seed gives the same stream everywhere.

/// A deterministic random generator.
///
///     var rng = SeededRandom(seed: 42); let u = rng.nextFloat()
public struct SeededRandom: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The whole state as five words (xoshiro's four and a cached normal), for training checkpoints.
    public var savedState: [UInt64] {
        [s.0, s.1, s.2, s.3, spareNormal.map { UInt64($0.bitPattern) | 1 << 32 } ?? 0]
    }

    /// A generator continuing exactly where the one that gave `savedState` was; nil for a state no
    /// generator can have (all-zero xoshiro words, or a malformed cached normal).
    public init?(savedState w: [UInt64]) {
        guard w.count == 5, w[0] | w[1] | w[2] | w[3] != 0, w[4] >> 33 == 0 else { return nil }
        s = (w[0], w[1], w[2], w[3])
        spareNormal = w[4] >> 32 == 1 ? Float(bitPattern: UInt32(truncatingIfNeeded: w[4])) : nil
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform integer in 0..<n.
    public mutating func nextInt(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// Standard normal (Box–Muller, both values used).
    public mutating func nextNormal() -> Float {
        if let z = spareNormal {
            spareNormal = nil
            return z
        }
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2 * _log(u1)).squareRoot()
        spareNormal = Float(r * _sin(2 * Double.pi * u2))
        return Float(r * _cos(2 * Double.pi * u2))
    }

    /// Fisher–Yates shuffle of `a`.
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, nextInt(i + 1)) }
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
