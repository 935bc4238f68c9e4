// Batch normalisation over [N,C] or [N,C,...]: per-channel statistics over batch and space.
// Training uses batch statistics (biased variance) and updates running stats with the unbiased variance,
// as PyTorch does; evaluation uses the running stats.

extension Tensor {
    /// y = (x − μ)/√(σ²+ε)·γ + β per channel (axis 1).
    ///
    ///     x.batchNorm(weight: g, bias: b, runningMean: rm, runningVar: rv, training: true)
    public func batchNorm(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                          training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 2, "batchNorm: input \(shape) needs a channel axis")
        let n = shape[0], c = shape[1], inner = count / Swift.max(n * c, 1)
        for (name, t) in [("weight", weight), ("bias", bias), ("running mean", runningMean), ("running var", runningVar)] {
            precondition(t.shape == [c], "batchNorm: \(name) \(t.shape), expected [\(c)]")
        }
        let m = n * inner
        precondition(!training || m > 1, "batchNorm: training needs more than one value per channel (got \(shape))")
        let mean = Tensor(uninitialized: [c]), invStd = Tensor(uninitialized: [c])
        for ch in 0..<c {
            if training {
                var s = 0.0
                for i in 0..<n { s += Double(sumFloats(data + (i * c + ch) * inner, inner)) }
                let mu = s / Double(m)
                var v = 0.0
                for i in 0..<n { let p = data + (i * c + ch) * inner; for j in 0..<inner { let d = Double(p[j]) - mu; v += d * d } }
                let variance = v / Double(m)
                mean.data[ch] = Float(mu)
                invStd.data[ch] = Float(1 / (variance + Double(eps)).squareRoot())
                runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * Float(mu)
                runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + momentum * Float(v / Double(m - 1))
            } else {
                mean.data[ch] = runningMean.data[ch]
                invStd.data[ch] = 1 / (runningVar.data[ch] + eps).squareRoot()
            }
        }
        let out = Tensor(uninitialized: shape)
        for i in 0..<n { for ch in 0..<c {
            let scale = invStd.data[ch] * weight.data[ch], shift = bias.data[ch] - mean.data[ch] * scale
            let p = data + (i * c + ch) * inner, q = out.data + (i * c + ch) * inner
            map8(p, q, inner, { $0 * F8(repeating: scale) + F8(repeating: shift) }, { $0 * scale + shift })
        } }
        let x = self
        return out.recorded([x, weight, bias]) { _, g in
            let gx = Tensor(uninitialized: x.shape), gw = Tensor.zeros([c]), gb = Tensor.zeros([c])
            for ch in 0..<c {
                let mu = mean.data[ch], istd = invStd.data[ch], gamma = weight.data[ch]
                var sg: Float = 0, sgx: Float = 0
                for i in 0..<n {
                    let p = x.data + (i * c + ch) * inner, q = g.data + (i * c + ch) * inner
                    for j in 0..<inner { sg += q[j]; sgx += q[j] * (p[j] - mu) * istd }
                }
                gw.data[ch] = sgx; gb.data[ch] = sg
                for i in 0..<n {
                    let p = x.data + (i * c + ch) * inner, q = g.data + (i * c + ch) * inner
                    let r = gx.data + (i * c + ch) * inner
                    if training {
                        // dx = γ·istd/M · (M·g − Σg − x̂·Σ(g·x̂))
                        let k = gamma * istd / Float(m)
                        for j in 0..<inner { r[j] = k * (Float(m) * q[j] - sg - (p[j] - mu) * istd * sgx) }
                    } else {
                        for j in 0..<inner { r[j] = q[j] * gamma * istd }
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
        precondition(Tensor.elementCount(ishape) == indices.count, "embedding: index shape \(ishape) for \(indices.count) indices")
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
