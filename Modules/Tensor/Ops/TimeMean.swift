// Mean over time of padded sequences: [B, T, F] → [B, F], each sequence averaged over its own first
// lengths[b] steps (the padding after them is not counted). A classifier that reads every frame of a
// clip instead of only the recurrent layer's final state.
extension Tensor {
    ///     let pooled = h.meanOverTime(lengths: [50, 31])   // h: [2, 50, 64] → [2, 64]
    public func meanOverTime(lengths: [Int]? = nil) -> Tensor {
        precondition(rank == 3, "meanOverTime: input \(shape) must be [B, T, F]")
        let (b, t, f) = (shape[0], shape[1], shape[2])
        let lens = lengths ?? Array(repeating: t, count: b)
        precondition(
            lens.count == b && lens.allSatisfy { $0 >= 1 && $0 <= t },
            "meanOverTime: lengths \(lens) for \(b) sequences of at most \(t) steps")
        let x = self
        let out = Tensor.zeros([b, f])
        for r in 0..<b {
            for s in 0..<lens[r] { addInPlace(out.data + r * f, x.data + (r * t + s) * f, f) }
            let inv = 1 / Float(lens[r])
            for j in 0..<f { out.data[r * f + j] *= inv }
        }
        return out.recorded([x]) { _, g in
            let gx = Tensor.zeros(x.shape)
            for r in 0..<b {
                let inv = 1 / Float(lens[r])
                for s in 0..<lens[r] { for j in 0..<f { gx.data[(r * t + s) * f + j] = g.data[r * f + j] * inv } }
            }
            return [gx]
        }
    }
}
