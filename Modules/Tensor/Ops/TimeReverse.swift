// Time reversal of padded sequences: [B, T, F] → [B, T, F], each sequence's own first lengths[b] frames in
// reverse order, the padding after them left where it is. The backward direction of a bidirectional
// recurrent layer runs on the reversed input, so its first step is each clip's last real frame, not padding.
// The op is its own inverse, and so is its gradient.
extension Tensor {
    ///     let r = x.reversedInTime(lengths: [3, 2])   // rows [a b c], [d e pad] → [c b a], [e d pad]
    public func reversedInTime(lengths: [Int]? = nil) -> Tensor {
        precondition(rank == 3, "reversedInTime: input \(shape) must be [B, T, F]")
        let (b, t) = (shape[0], shape[1])
        let lens = lengths ?? Array(repeating: t, count: b)
        precondition(
            lens.count == b && lens.allSatisfy { $0 >= 1 && $0 <= t },
            "reversedInTime: lengths \(lens) for \(b) sequences of at most \(t) steps")
        let x = self
        return Tensor.reverseFrames(x, lens).recorded([x]) { _, g in [Tensor.reverseFrames(g, lens)] }
    }

    private static func reverseFrames(_ x: Tensor, _ lens: [Int]) -> Tensor {
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2])
        let out = Tensor(uninitialized: x.shape)
        for r in 0..<b {
            let row = r * t * f
            for s in 0..<lens[r] {
                (out.data + row + s * f).update(from: x.data + row + (lens[r] - 1 - s) * f, count: f)
            }
            (out.data + row + lens[r] * f).update(from: x.data + row + lens[r] * f, count: (t - lens[r]) * f)
        }
        return out
    }
}
