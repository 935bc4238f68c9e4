// What the LSTM and GRU ops share: checking their arguments, the input projection of all steps in one
// GEMM, the output (the padded sequence or each sequence's last state), and the previous states laid out
// for the weight-gradient GEMM.

/// Sizes of a recurrent op's batch: B sequences of up to T steps of I inputs, H units, G gates.
struct RecurrentShape {
    let b: Int, t: Int, i: Int, h: Int, gates: Int
    /// Each sequence's number of steps.
    let lengths: [Int]
    var width: Int { gates * h }

    /// Checks x [B, T, I], weights [G·H, I], [G·H, H], biases [G·H] and lengths (1…T each).
    init(
        _ op: String, x: Tensor, _ wIH: Tensor, _ wHH: Tensor, _ bIH: Tensor, _ bHH: Tensor, gates: Int, lengths: [Int]?
    ) {
        precondition(x.rank == 3, "\(op): input \(x.shape) must be [B, T, I]")
        (b, t, i) = (x.shape[0], x.shape[1], x.shape[2])
        let g = wIH.shape[0]
        h = g / gates
        self.gates = gates
        precondition(
            g % gates == 0 && wIH.shape == [g, i] && wHH.shape == [g, h] && bIH.shape == [g] && bHH.shape == [g],
            "\(op): weights \(wIH.shape), \(wHH.shape), \(bIH.shape), \(bHH.shape) do not fit input \(x.shape)")
        let lens = lengths ?? Array(repeating: x.shape[1], count: x.shape[0])
        precondition(
            lens.count == b && lens.allSatisfy { $0 >= 1 && $0 <= x.shape[1] },
            "\(op): lengths \(lens) for \(b) sequences of at most \(x.shape[1]) steps")
        self.lengths = lens
    }

    /// x·W_ihᵀ + `bias` for every step at once, [B, T, G·H].
    func inputProjection(_ x: Tensor, _ wIH: Tensor, bias: [Float]) -> Tensor {
        let w = width
        let pre = Tensor(uninitialized: [b, t, w])
        bias.withUnsafeBufferPointer { bp in
            PackedB.with(transB: true, n: w, k: i, b: wIH.data, ldb: i) { pw in
                pw.multiplyAll(m: b * t, a: x.data, lda: i, c: pre.data, ldc: w, startRow: bp.baseAddress!)
            }
        }
        return pre
    }

    /// From the states hs [T + 1, B, H] (row 0 the zero start): the sequence [B, T, H], zero past each
    /// length, or each sequence's last state [B, H] (kept unchanged past its length).
    func output(_ hs: Tensor, sequence: Bool) -> Tensor {
        if sequence {
            let out = Tensor(uninitialized: [b, t, h])
            for r in 0..<b {
                for s in 0..<lengths[r] {
                    (out.data + (r * t + s) * h).update(from: hs.data + ((s + 1) * b + r) * h, count: h)
                }
                (out.data + (r * t + lengths[r]) * h).update(repeating: 0, count: (t - lengths[r]) * h)
            }
            return out
        }
        let out = Tensor(uninitialized: [b, h])
        out.data.update(from: hs.data + t * b * h, count: b * h)
        return out
    }

    /// h_{t−1} for every (sequence, step) as [B, T, H], the right operand of dW_hh = dAᵀ·h_{t−1}.
    func previousStates(_ hs: Tensor) -> Tensor {
        let prev = Tensor(uninitialized: [b, t, h])
        for r in 0..<b {
            for s in 0..<t { (prev.data + (r * t + s) * h).update(from: hs.data + (s * b + r) * h, count: h) }
        }
        return prev
    }

    /// Gradients for x, W_ih, W_hh, b_ih, b_hh from the pre-activation gradients of all steps at once:
    /// `dInput` [B, T, G·H] for the input side, `dRecurrent` for the recurrent side (the same tensor for an
    /// LSTM; a GRU's n gate differs), three GEMMs and two sums instead of T small ones.
    func weightGradients(x: Tensor, wIH: Tensor, wHH: Tensor, hs: Tensor, dInput: Tensor, dRecurrent: Tensor)
        -> [Tensor?]
    {
        let w = width
        let hPrev = previousStates(hs)
        var gx: Tensor?
        if x.requiresGrad {
            let t0 = Tensor(uninitialized: x.shape)
            PackedB.with(transB: false, n: i, k: w, b: wIH.data, ldb: i) { pw in
                pw.multiplyAll(m: b * t, a: dInput.data, lda: w, c: t0.data, ldc: i, startRow: nil)
            }
            gx = t0
        }
        // dW_ih = dAᵀ·x and dW_hh = dAᵀ·h_{t−1}, every (sequence, step) at once; the bias gradients are
        // the same products' column sums of dA.
        let wi = Tensor(uninitialized: [w, i]), wh = Tensor(uninitialized: [w, h])
        let bi = Tensor(uninitialized: [w]), bh = Tensor(uninitialized: [w])
        let shared = dRecurrent === dInput
        sumOfOuterProducts(
            m: w, n: i, k: b * t, a: dInput.data, lda: w, b: x.data, ldb: i, c: wi.data, ldc: i, columnSums: bi.data)
        sumOfOuterProducts(
            m: w, n: h, k: b * t, a: dRecurrent.data, lda: w, b: hPrev.data, ldb: h, c: wh.data, ldc: h,
            columnSums: shared ? nil : bh.data)
        if shared { bh.data.update(from: bi.data, count: w) }
        return [gx, wi, wh, bi, bh]
    }

    /// Adds the gradient arriving for sequence r's state at step s (gOut is [B, T, H]; a [B, H] gOut
    /// arrives only at the last step, before the walk starts) to its row `dh`.
    func addOutputGradient(
        _ gOut: Tensor, step s: Int, row r: Int, sequence: Bool, into dh: UnsafeMutablePointer<Float>
    ) {
        guard sequence else { return }
        addInPlace(dh, gOut.data + (r * t + s) * h, h)
    }

    /// Fewest sequences worth a core of their own through all steps (fewer go through one core).
    static let rowsPerCore = 3
}

/// The state a recurrent op starts from and ends with, carried from one call to the next outside
/// autograd: text is trained window after window with the state of the previous window (truncated
/// BPTT: no gradient flows back into it), and generated one character at a time. h and c are [B, H].
public final class RecurrentState {
    public private(set) var h: Tensor?, c: Tensor?
    public init() {}

    /// Forgets the state: the next call starts from zeros.
    public func reset() {
        h = nil
        c = nil
    }

    /// Copies the carried state into row 0 of the op's states [T + 1, B, H], if it has their shape
    /// (a batch of another size starts from zeros).
    func start(_ hs: Tensor, _ cs: Tensor?) {
        let rowShape = Array(hs.shape.dropFirst())
        if let h, h.shape == rowShape { hs.data.update(from: h.data, count: h.count) }
        if let c, let cs, c.shape == rowShape { cs.data.update(from: c.data, count: c.count) }
    }

    /// Keeps the last row of the op's states: each sequence's state at its own last frame.
    func end(_ hs: Tensor, _ cs: Tensor?) {
        func last(_ s: Tensor) -> Tensor {
            let rowShape = Array(s.shape.dropFirst()), n = rowShape.reduce(1, *)
            let r = Tensor(uninitialized: rowShape)
            r.data.update(from: s.data + (s.shape[0] - 1) * n, count: n)
            return r
        }
        h = last(hs)
        c = cs.map(last)
    }
}
