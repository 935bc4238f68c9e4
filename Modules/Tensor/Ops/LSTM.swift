// One LSTM layer over a whole batch of sequences, as PyTorch's nn.LSTM (batch_first, gate order i, f, g, o):
//   a_t = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh          [B, 4H]
//   i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
//   c_t = f·c_{t−1} + i·g;  h_t = o·tanh(c_t)
// Forward: the input projection of every step is one GEMM ([B·T, I]·[I, 4H]); each step adds one small
// GEMM (h·W_hhᵀ) and one fused pass for the gates and the cell. Sequences shorter than the batch's T
// (`lengths`) keep their state after their last frame and output zeros there, so a sequence's final state
// is the one at its own last frame. BPTT walks the steps backwards with the gates kept from the forward
// pass; dW_ih, dW_hh and the bias gradients are then three GEMMs / sums over all steps at once.
import Foundation
import CKernels

extension Tensor {
    /// x: [B, T, I]; weights [4H, I], [4H, H]; biases [4H]. Returns [B, T, H] (zero after each sequence's
    /// length) if `sequence`, else the last state of each sequence [B, H]. With `state`, starts from its
    /// h and c (when they fit) and leaves the final ones there.
    ///
    ///     let h = x.lstm(wIH, wHH, bIH, bHH, lengths: [50, 31], sequence: false)
    public func lstm(
        _ wIH: Tensor, _ wHH: Tensor, _ bIH: Tensor, _ bHH: Tensor, lengths: [Int]? = nil, sequence: Bool,
        state: RecurrentState? = nil
    ) -> Tensor {
        let x = self
        let shape = RecurrentShape("lstm", x: x, wIH, wHH, bIH, bHH, gates: 4, lengths: lengths)
        let (b, t, h, h4, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)

        // Gates after their nonlinearity, per step: [T, B, 4H]; states c_t and h_t: [T + 1, B, H] (row 0 is zero).
        let gates = Tensor(uninitialized: [t, b, h4])
        // Every later row is written by its step (a finished sequence's state is copied on).
        let cs = Tensor(uninitialized: [t + 1, b, h]), hs = Tensor(uninitialized: [t + 1, b, h])
        cs.data.update(repeating: 0, count: b * h)
        hs.data.update(repeating: 0, count: b * h)
        state?.start(hs, cs)
        let pre = shape.inputProjection(x, wIH, bias: (0..<h4).map { bIH.data[$0] + bHH.data[$0] })

        // W_hh is packed once for all steps; the sequences are split over the cores, each core running
        // its rows through every step (the rows' recurrences are independent, so no step waits for another core).
        // A step's gates start from the input projection and add h_{t−1}·W_hhᵀ in one pass.
        PackedB.with(transB: true, n: h4, k: h, b: wHH.data, ldb: h) { w in
            Parallel.forRanges(b, minChunk: RecurrentShape.rowsPerCore) { rows in
                withScratch(w.rowScratchCount(m: rows.count)) { scratch in
                    RowPointers.with(count: rows.count) { ptr in
                        for s in 0..<t {
                            let a = gates.data + s * b * h4
                            let cPrev = cs.data + s * b * h, hPrev = hs.data + s * b * h
                            let cNext = cs.data + (s + 1) * b * h, hNext = hs.data + (s + 1) * b * h
                            var m = 0
                            for r in rows where s < lens[r] {
                                ptr.a[m] = UnsafePointer(hPrev + r * h)
                                ptr.c[m] = a + r * h4
                                ptr.start[m] = UnsafePointer(pre.data + (r * t + s) * h4)
                                m += 1
                            }
                            w.multiplyRows(m: m, a: ptr.a, c: ptr.c, start: .from(ptr.start), scratch: scratch)
                            for r in rows {
                                let cp = cPrev + r * h, hp = hPrev + r * h, cn = cNext + r * h, hn = hNext + r * h
                                guard s < lens[r] else {
                                    // Past this sequence's end: the state stays, the gates are unused.
                                    cn.update(from: cp, count: h)
                                    hn.update(from: hp, count: h)
                                    continue
                                }
                                dlp_lstm_cell_forward(a + r * h4, cp, cn, hn, h)
                            }
                        }
                    }
                }
            }
        }

        state?.end(hs, cs)
        let out = shape.output(hs, sequence: sequence)
        return out.recorded([x, wIH, wHH, bIH, bHH]) { _, gOut in
            lstmBackward(shape, x: x, wIH: wIH, wHH: wHH, gates: gates, cs: cs, hs: hs, sequence: sequence, gOut: gOut)
        }
    }
}

/// BPTT for `Tensor.lstm`: gradients for x, W_ih, W_hh, b_ih, b_hh.
func lstmBackward(
    _ shape: RecurrentShape, x: Tensor, wIH: Tensor, wHH: Tensor, gates: Tensor, cs: Tensor, hs: Tensor,
    sequence: Bool, gOut: Tensor
) -> [Tensor?] {
    let (b, t, h, h4, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)
    // dA: gradient of the pre-activations, [B, T, 4H] (the layout of the input projection).
    let dA = Tensor(uninitialized: [b, t, h4])
    // Steps past a sequence's length get no gradient; the weight-gradient products still read them.
    for r in 0..<b where lens[r] < t {
        (dA.data + (r * t + lens[r]) * h4).update(repeating: 0, count: (t - lens[r]) * h4)
    }
    let dh = Tensor.zeros([b, h]), dc = Tensor.zeros([b, h])
    if !sequence { dh.data.update(from: gOut.data, count: b * h) }
    // As in the forward pass: W_hh packed once, the sequences split over the cores for all steps.
    PackedB.with(transB: false, n: h, k: h4, b: wHH.data, ldb: h) { w in
        Parallel.forRanges(b, minChunk: RecurrentShape.rowsPerCore) { chunk in
            withScratch(w.rowScratchCount(m: chunk.count)) { scratch in
                RowPointers.with(count: chunk.count) { ptr in
                    for s in stride(from: t - 1, through: 0, by: -1) {
                        let g = gates.data + s * b * h4
                        var m = 0
                        for r in chunk where s < lens[r] {
                            shape.addOutputGradient(gOut, step: s, row: r, sequence: sequence, into: dh.data + r * h)
                            let da = dA.data + (r * t + s) * h4
                            let cPrev = cs.data + (s * b + r) * h, cCur = cs.data + ((s + 1) * b + r) * h
                            dlp_lstm_cell_backward(g + r * h4, cPrev, cCur, dh.data + r * h, dc.data + r * h, da, h)
                            ptr.a[m] = UnsafePointer(da)
                            ptr.c[m] = dh.data + r * h
                            m += 1
                        }
                        // dh_{t−1} = dA_t · W_hh for the sequences still running (their dh_t is used up); the
                        // others pass dh through unchanged.
                        w.multiplyRows(m: m, a: ptr.a, c: ptr.c, start: .zero, scratch: scratch)
                    }
                }
            }
        }
    }
    return shape.weightGradients(x: x, wIH: wIH, wHH: wHH, hs: hs, dInput: dA, dRecurrent: dA)
}
