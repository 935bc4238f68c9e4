// Batch normalisation over [N,C] or [N,C,...]: per-channel statistics over batch and space.
// Training uses batch statistics (biased variance) and updates running stats with the unbiased variance,
// as PyTorch does; evaluation uses the running stats. Channels are independent, so both passes split
// channels over cores; sums use SIMD accumulators.

extension Tensor {
    /// y = (x − μ)/√(σ²+ε)·γ + β per channel (axis 1).
    ///
    ///     x.batchNorm(weight: g, bias: b, runningMean: rm, runningVar: rv, training: true)
    public func batchNorm(
        weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
        training: Bool, momentum: Float = 0.1, eps: Float = 1e-5
    ) -> Tensor {
        precondition(rank >= 2, "batchNorm: input \(shape) needs a channel axis")
        let n = shape[0], c = shape[1], inner = count / Swift.max(n * c, 1)
        for (name, t) in [
            ("weight", weight), ("bias", bias), ("running mean", runningMean), ("running var", runningVar),
        ] {
            precondition(t.shape == [c], "batchNorm: \(name) \(t.shape), expected [\(c)]")
        }
        let m = n * inner
        precondition(!training || m > 1, "batchNorm: training needs more than one value per channel (got \(shape))")
        let mean = Tensor(uninitialized: [c]), invStd = Tensor(uninitialized: [c])
        let out = Tensor(uninitialized: shape)
        let X = SendablePointer(data), Y = SendablePointer(out.data), MU = SendablePointer(mean.data)
        let IS = SendablePointer(invStd.data), GA = SendablePointer(weight.data), BE = SendablePointer(bias.data)
        let RM = SendablePointer(runningMean.data), RV = SendablePointer(runningVar.data)
        Parallel.forRanges(c, minChunk: Swift.max(1, 65536 / Swift.max(m, 1))) { channels in
            for ch in channels {
                if training {
                    var s: Float = 0
                    for i in 0..<n { s += sumFloats(X.p + (i * c + ch) * inner, inner) }
                    let mu = s / Float(m)
                    var v: Float = 0
                    for i in 0..<n { v += sumSquaredDeviations(X.p + (i * c + ch) * inner, inner, mu) }
                    MU.p[ch] = mu
                    IS.p[ch] = 1 / (v / Float(m) + eps).squareRoot()
                    RM.p[ch] = (1 - momentum) * RM.p[ch] + momentum * mu
                    RV.p[ch] = (1 - momentum) * RV.p[ch] + momentum * v / Float(m - 1)
                } else {
                    MU.p[ch] = RM.p[ch]
                    IS.p[ch] = 1 / (RV.p[ch] + eps).squareRoot()
                }
                let scale = IS.p[ch] * GA.p[ch], shift = BE.p[ch] - MU.p[ch] * scale
                for i in 0..<n {
                    let o = (i * c + ch) * inner
                    map8(
                        X.p + o, Y.p + o, inner, { $0 * F8(repeating: scale) + F8(repeating: shift) },
                        { $0 * scale + shift })
                }
            }
        }
        let x = self
        return out.recorded([x, weight, bias]) { _, g in
            let gx = Tensor(uninitialized: x.shape), gw = Tensor(uninitialized: [c]), gb = Tensor(uninitialized: [c])
            let X = SendablePointer(x.data), G = SendablePointer(g.data), GX = SendablePointer(gx.data)
            let GW = SendablePointer(gw.data), GB = SendablePointer(gb.data)
            let MU = SendablePointer(mean.data), IS = SendablePointer(invStd.data), GA = SendablePointer(weight.data)
            Parallel.forRanges(c, minChunk: Swift.max(1, 65536 / Swift.max(m, 1))) { channels in
                for ch in channels {
                    let mu = MU.p[ch], istd = IS.p[ch], gamma = GA.p[ch]
                    var sg: Float = 0, sgx: Float = 0
                    for i in 0..<n {
                        let o = (i * c + ch) * inner
                        sg += sumFloats(G.p + o, inner)
                        sgx += dotCentered(G.p + o, X.p + o, inner, mu)
                    }
                    sgx *= istd  // Σ g·x̂
                    GW.p[ch] = sgx
                    GB.p[ch] = sg
                    for i in 0..<n {
                        let o = (i * c + ch) * inner
                        if training {
                            // dx = γ·istd/M · (M·g − Σg − x̂·Σ(g·x̂))
                            let k = gamma * istd / Float(m), fm = Float(m), a = k * fm, b = -k * sg, d = k * istd * sgx
                            zip8(
                                G.p + o, X.p + o, GX.p + o, inner,
                                { gv, xv in
                                    F8(repeating: a) * gv + F8(repeating: b) - F8(repeating: d)
                                        * (xv - F8(repeating: mu))
                                },
                                { gv, xv in a * gv + b - d * (xv - mu) })
                        } else {
                            let s = gamma * istd
                            map8(G.p + o, GX.p + o, inner, { $0 * F8(repeating: s) }, { $0 * s })
                        }
                    }
                }
            }
            return [gx, gw, gb]
        }
    }

    /// Inverted dropout: zeroes each element with probability p and scales survivors by 1/(1−p).
    /// Identity when not training.
    public func dropout(_ p: Float, training: Bool, rng: inout SeededRandom) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: p must be in [0, 1), got \(p)")
        guard training && p > 0 else { return self }
        let mask = Tensor(uninitialized: shape)
        let keep = 1 / (1 - p)
        for i in 0..<count { mask.data[i] = rng.nextFloat() < p ? 0 : keep }
        return self * mask
    }

    /// Rows of `weight` ([V, D]) picked by `indices`; result shape `indexShape + [D]`.
    /// The gradient is scatter-added into the picked rows.
    ///
    ///     let e = Tensor.embedding(table, indices: [3, 1, 4], indexShape: [3])
    public static func embedding(_ weight: Tensor, indices: [Int], indexShape: [Int]? = nil) -> Tensor {
        precondition(weight.rank == 2, "embedding: weight \(weight.shape) must be [V, D]")
        let v = weight.shape[0], d = weight.shape[1]
        let ishape = indexShape ?? [indices.count]
        precondition(
            Tensor.elementCount(ishape) == indices.count,
            "embedding: index shape \(ishape) for \(indices.count) indices")
        let out = Tensor(uninitialized: ishape + [d])
        for (r, i) in indices.enumerated() {
            precondition(i >= 0 && i < v, "embedding: index \(i) out of range 0..<\(v)")
            (out.data + r * d).update(from: weight.data + i * d, count: d)
        }
        return out.recorded([weight]) { _, g in
            let gw = Tensor.zeros(weight.shape)
            for (r, i) in indices.enumerated() { addInPlace(gw.data + i * d, g.data + r * d, d) }
            return [gw]
        }
    }
}

/// Σ (x[i] − mu)² with SIMD accumulators.
func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    var a = F8(), b = F8()
    let m = F8(repeating: mu)
    var i = 0
    while i + 16 <= n {
        let d0 = load8(x + i) - m, d1 = load8(x + i + 8) - m
        a += d0 * d0
        b += d1 * d1
        i += 16
    }
    while i + 8 <= n {
        let d = load8(x + i) - m
        a += d * d
        i += 8
    }
    var s = (a + b).sum()
    while i < n {
        let d = x[i] - mu
        s += d * d
        i += 1
    }
    return s
}

/// Σ g[i]·(x[i] − mu) with SIMD accumulators.
func dotCentered(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    var a = F8()
    let m = F8(repeating: mu)
    var i = 0
    while i + 8 <= n {
        a += load8(g + i) * (load8(x + i) - m)
        i += 8
    }
    var s = a.sum()
    while i < n {
        s += g[i] * (x[i] - mu)
        i += 1
    }
    return s
}
