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

extension Tensor {
    /// x: [B, T, I]; weights [4H, I], [4H, H]; biases [4H]. Returns [B, T, H] (zero after each sequence's
    /// length) if `sequence`, else the last state of each sequence [B, H]. With `state`, starts from its
    /// h and c (when they fit) and leaves the final ones there.
    ///
    ///     let h = x.lstm(wIH, wHH, bIH, bHH, lengths: [50, 31], sequence: false)
    public func lstm(_ wIH: Tensor, _ wHH: Tensor, _ bIH: Tensor, _ bHH: Tensor, lengths: [Int]? = nil, sequence: Bool,
                     state: RecurrentState? = nil) -> Tensor {
        let x = self
        let shape = RecurrentShape("lstm", x: x, wIH, wHH, bIH, bHH, gates: 4, lengths: lengths)
        let (b, t, h, h4, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)

        // Gates after their nonlinearity, per step: [T, B, 4H]; states c_t and h_t: [T + 1, B, H] (row 0 is zero).
        let gates = Tensor(uninitialized: [t, b, h4])
        let cs = Tensor.zeros([t + 1, b, h]), hs = Tensor.zeros([t + 1, b, h])
        state?.start(hs, cs)
        let pre = shape.inputProjection(x, wIH, bias: (0..<h4).map { bIH.data[$0] + bHH.data[$0] })

        // W_hh is packed once for all steps; the sequences are split over the cores, each core running
        // its rows through every step (the rows' recurrences are independent, so no step waits for another core).
        PackedB.with(transB: true, n: h4, k: h, b: wHH.data, ldb: h) { w in
            Parallel.forRanges(b, minChunk: RecurrentShape.rowsPerCore) { rows in withScratch(w.scratchCount(m: rows.count)) { scratch in
                let r0 = rows.lowerBound
                for s in 0..<t {
                    let a = gates.data + s * b * h4
                    for r in rows { (a + r * h4).update(from: pre.data + (r * t + s) * h4, count: h4) }
                    w.multiply(m: rows.count, a: hs.data + (s * b + r0) * h, lda: h, beta: 1, c: a + r0 * h4, ldc: h4, scratch: scratch)
                    let cPrev = cs.data + s * b * h, hPrev = hs.data + s * b * h
                    let cNext = cs.data + (s + 1) * b * h, hNext = hs.data + (s + 1) * b * h
                    for r in rows {
                        let g = a + r * h4, cp = cPrev + r * h, hp = hPrev + r * h, cn = cNext + r * h, hn = hNext + r * h
                        guard s < lens[r] else {
                            // Past this sequence's end: the state stays, the gates are unused.
                            cn.update(from: cp, count: h); hn.update(from: hp, count: h)
                            continue
                        }
                        lstmCellForward(g, cp, cn, hn, h)
                    }
                }
            } }
        }

        state?.end(hs, cs)
        let out = shape.output(hs, sequence: sequence)
        return out.recorded([x, wIH, wHH, bIH, bHH]) { _, gOut in
            lstmBackward(shape, x: x, wIH: wIH, wHH: wHH, gates: gates, cs: cs, hs: hs, sequence: sequence, gOut: gOut)
        }
    }
}

/// The fused gate and cell pass of one sequence at one step: `g` holds the pre-activations i, f, g, o
/// ([4H]) and is overwritten with the activated gates; c' = f·c + i·g, h' = o·tanh(c'). Eight units at a
/// time through the SIMD exponential; a scalar tail for H not a multiple of 8.
@inline(__always)
func lstmCellForward(_ g: UnsafeMutablePointer<Float>, _ c: UnsafePointer<Float>, _ cNext: UnsafeMutablePointer<Float>,
                     _ hNext: UnsafeMutablePointer<Float>, _ h: Int) {
    var j = 0
    while j + 8 <= h {
        let ig = sigmoid8(load8(g + j)), fg = sigmoid8(load8(g + h + j))
        let gg = tanh8(load8(g + 2 * h + j)), og = sigmoid8(load8(g + 3 * h + j))
        store8(ig, g + j); store8(fg, g + h + j); store8(gg, g + 2 * h + j); store8(og, g + 3 * h + j)
        let cn = fg * load8(c + j) + ig * gg
        store8(cn, cNext + j)
        store8(og * tanh8(cn), hNext + j)
        j += 8
    }
    while j < h {
        let ig = 1 / (1 + Foundation.exp(-g[j]))
        let fg = 1 / (1 + Foundation.exp(-g[h + j]))
        let gg = Foundation.tanh(g[2 * h + j])
        let og = 1 / (1 + Foundation.exp(-g[3 * h + j]))
        g[j] = ig; g[h + j] = fg; g[2 * h + j] = gg; g[3 * h + j] = og
        let cn = fg * c[j] + ig * gg
        cNext[j] = cn
        hNext[j] = og * Foundation.tanh(cn)
        j += 1
    }
}

@inline(__always) func sigmoid8(_ x: F8) -> F8 { F8(repeating: 1) / (F8(repeating: 1) + exp8(-x)) }
/// tanh(x) = 2σ(2x) − 1.
@inline(__always) func tanh8(_ x: F8) -> F8 { F8(repeating: 2) / (F8(repeating: 1) + exp8(F8(repeating: -2) * x)) - F8(repeating: 1) }

/// BPTT for `Tensor.lstm`: gradients for x, W_ih, W_hh, b_ih, b_hh.
func lstmBackward(_ shape: RecurrentShape, x: Tensor, wIH: Tensor, wHH: Tensor, gates: Tensor, cs: Tensor, hs: Tensor,
                  sequence: Bool, gOut: Tensor) -> [Tensor?] {
    let (b, t, h, h4, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)
    // dA: gradient of the pre-activations, [B, T, 4H] (the layout of the input projection).
    let dA = Tensor.zeros([b, t, h4])
    let dh = Tensor.zeros([b, h]), dc = Tensor.zeros([b, h])
    if !sequence { dh.data.update(from: gOut.data, count: b * h) }
    // As in the forward pass: W_hh packed once, the sequences split over the cores for all steps.
    PackedB.with(transB: false, n: h, k: h4, b: wHH.data, ldb: h) { w in
        Parallel.forRanges(b, minChunk: RecurrentShape.rowsPerCore) { chunk in withScratch(w.scratchCount(m: chunk.count)) { scratch in
            let rows = Tensor(uninitialized: [chunk.count, h4]), dhPrev = Tensor(uninitialized: [chunk.count, h])
            for s in stride(from: t - 1, through: 0, by: -1) {
                let g = gates.data + s * b * h4
                for r in chunk where s < lens[r] {
                    shape.addOutputGradient(gOut, step: s, row: r, sequence: sequence, into: dh.data + r * h)
                    let gr = g + r * h4, da = dA.data + (r * t + s) * h4
                    let cPrev = cs.data + (s * b + r) * h, cCur = cs.data + ((s + 1) * b + r) * h
                    lstmCellBackward(gr, cPrev, cCur, dh.data + r * h, dc.data + r * h, da, h)
                }
                // dh_{t−1} = dA_t · W_hh for the sequences still running; the others pass dh through unchanged.
                let active = chunk.filter { s < lens[$0] }
                guard !active.isEmpty else { continue }
                for (k, r) in active.enumerated() { (rows.data + k * h4).update(from: dA.data + (r * t + s) * h4, count: h4) }
                w.multiply(m: active.count, a: rows.data, lda: h4, beta: 0, c: dhPrev.data, ldc: h, scratch: scratch)
                for (k, r) in active.enumerated() { (dh.data + r * h).update(from: dhPrev.data + k * h, count: h) }
            }
        } }
    }
    return shape.weightGradients(x: x, wIH: wIH, wHH: wHH, hs: hs, dInput: dA, dRecurrent: dA)
}

/// One sequence at one step of BPTT: from dh (in) and dc (in: from the next step; out: to the previous
/// one) and the kept gates, the pre-activation gradients `da` [4H].
@inline(__always)
func lstmCellBackward(_ gr: UnsafePointer<Float>, _ cPrev: UnsafePointer<Float>, _ cCur: UnsafePointer<Float>,
                      _ dh: UnsafePointer<Float>, _ dc: UnsafeMutablePointer<Float>, _ da: UnsafeMutablePointer<Float>, _ h: Int) {
    let one = F8(repeating: 1)
    var j = 0
    while j + 8 <= h {
        let ig = load8(gr + j), fg = load8(gr + h + j), gg = load8(gr + 2 * h + j), og = load8(gr + 3 * h + j)
        let tc = tanh8(load8(cCur + j)), dhj = load8(dh + j)
        let dcj = load8(dc + j) + dhj * og * (one - tc * tc)
        store8(dcj * gg * ig * (one - ig), da + j)
        store8(dcj * load8(cPrev + j) * fg * (one - fg), da + h + j)
        store8(dcj * ig * (one - gg * gg), da + 2 * h + j)
        store8(dhj * tc * og * (one - og), da + 3 * h + j)
        store8(dcj * fg, dc + j)
        j += 8
    }
    while j < h {
        let ig = gr[j], fg = gr[h + j], gg = gr[2 * h + j], og = gr[3 * h + j]
        let tc = Foundation.tanh(cCur[j])
        let dhj = dh[j]
        let dcj = dc[j] + dhj * og * (1 - tc * tc)
        da[j] = dcj * gg * ig * (1 - ig)
        da[h + j] = dcj * cPrev[j] * fg * (1 - fg)
        da[2 * h + j] = dcj * ig * (1 - gg * gg)
        da[3 * h + j] = dhj * tc * og * (1 - og)
        dc[j] = dcj * fg
        j += 1
    }
}
