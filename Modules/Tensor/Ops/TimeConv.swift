// A convolution over time for padded sequences [B, T, C], as nn.Conv1d on the sequence transposed to
// [B, C, T]: each output frame is a linear map of K consecutive input frames (zeros before the first and
// after the last, `padding` of them). Built from two ops with their backward beside them — the patches
// (each output frame's K frames in one row, ordered channel-major like Conv1d's weight [Cout, Cin, K]) and
// the zeroing of frames beyond each sequence's length — so one GEMM does the multiply-adds, and a
// sequence gives the same output alone as padded in a batch.
extension Tensor {
    /// Output frames of a sequence of `length` frames: at least one (a sequence shorter than the kernel is
    /// read as if zeros followed it).
    ///
    ///     Tensor.timeConvLength(100, kernel: 5, stride: 2, padding: 2)   // 50
    public static func timeConvLength(_ length: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        Swift.max(1, (length + 2 * padding - kernel) / stride + 1)
    }

    /// [B, T, C] → [B·T', C·K]: row (b, j) holds frames j·stride − padding … + K − 1 of sequence b, channel by
    /// channel (column c·K + k is channel c of the k-th frame), zeros outside 0..<T.
    ///
    ///     let p = x.timePatches(kernel: 3, stride: 1, padding: 1)   // x: [2, 50, 20] → [100, 60]
    public func timePatches(kernel k: Int, stride s: Int, padding p: Int) -> Tensor {
        precondition(rank == 3 && k >= 1 && s >= 1 && p >= 0, "timePatches: input \(shape) must be [B, T, C]")
        let (b, t, c) = (shape[0], shape[1], shape[2])
        let to = Tensor.timeConvLength(t, kernel: k, stride: s, padding: p)
        let x = self, width = c * k
        /// Every (patch row, tap, frame) inside the sequence: `visit(row offset, tap, frame offset)`.
        func eachTap(_ visit: (Int, Int, Int) -> Void) {
            for r in 0..<b {
                for j in 0..<to {
                    for kk in 0..<k {
                        let frame = j * s - p + kk
                        if frame >= 0 && frame < t { visit((r * to + j) * width, kk, (r * t + frame) * c) }
                    }
                }
            }
        }
        let out = Tensor.zeros([b * to, width])
        eachTap { row, kk, src in for ch in 0..<c { out.data[row + ch * k + kk] = x.data[src + ch] } }
        return out.recorded([x]) { _, g in
            // Each patch entry's gradient goes back to the frame it came from; overlapping patches add up.
            let gx = Tensor.zeros(x.shape)
            eachTap { row, kk, dst in for ch in 0..<c { gx.data[dst + ch] += g.data[row + ch * k + kk] } }
            return [gx]
        }
    }

    /// [B, T, F] with every frame at or after lengths[b] set to 0 (and given no gradient): what a padded
    /// batch must look like for the next layer to see each sequence as if it were alone.
    public func zeroedBeyond(lengths: [Int]) -> Tensor {
        precondition(rank == 3 && lengths.count == shape[0], "zeroedBeyond: lengths \(lengths) for \(shape)")
        let (b, t, f) = (shape[0], shape[1], shape[2])
        guard lengths.contains(where: { $0 < t }) else { return self }
        let x = self
        func masked(_ y: Tensor) -> Tensor {
            let out = Tensor(uninitialized: y.shape)
            for r in 0..<b {
                let keep = Swift.min(Swift.max(lengths[r], 0), t) * f
                (out.data + r * t * f).update(from: y.data + r * t * f, count: keep)
                (out.data + r * t * f + keep).initialize(repeating: 0, count: t * f - keep)
            }
            return out
        }
        return masked(x).recorded([x]) { _, g in [masked(g)] }
    }
}
