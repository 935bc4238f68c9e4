// One GRU layer over a batch of sequences, as PyTorch's nn.GRU (batch_first, gate order r, z, n):
//   r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr),  z = σ(x·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
//   n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn)),  h' = (1 − z)·n + z·h
// As in Ops/LSTM.swift: one GEMM for the input projection of all steps, one small GEMM (W_hh packed once)
// and one fused pass per step, the sequences split over the cores, state kept after each sequence's
// length, and BPTT with whole-batch weight GEMMs.
// The recurrent product of n is kept apart from its input part, since r multiplies only it.
import Foundation

extension Tensor {
    /// x: [B, T, I]; weights [3H, I], [3H, H]; biases [3H]. Returns [B, T, H] (zero after each sequence's
    /// length) if `sequence`, else the last state of each sequence [B, H]. With `state`, starts from its h
    /// (when it fits) and leaves the final one there.
    public func gru(
        _ wIH: Tensor, _ wHH: Tensor, _ bIH: Tensor, _ bHH: Tensor, lengths: [Int]? = nil, sequence: Bool,
        state: RecurrentState? = nil
    ) -> Tensor {
        let x = self
        let shape = RecurrentShape("gru", x: x, wIH, wHH, bIH, bHH, gates: 3, lengths: lengths)
        let (b, t, h, h3, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)

        // Per step: activated r, z, n [T, B, 3H] and the recurrent part of n before r, h·W_hnᵀ + b_hn [T, B, H].
        let gates = Tensor(uninitialized: [t, b, h3]), hn = Tensor(uninitialized: [t, b, h])
        let hs = Tensor.zeros([t + 1, b, h])
        state?.start(hs, nil)
        let pre = shape.inputProjection(x, wIH, bias: (0..<h3).map { bIH.data[$0] })
        // As the LSTM: W_hh packed once, the sequences split over the cores for all steps.
        PackedB.with(transB: true, n: h3, k: h, b: wHH.data, ldb: h) { w in
            Parallel.forRanges(b, minChunk: RecurrentShape.rowsPerCore) { rows in
                withScratch(w.scratchCount(m: rows.count)) { scratch in
                    let rec = Tensor(uninitialized: [rows.count, h3]), r0 = rows.lowerBound
                    for s in 0..<t {
                        let hPrev = hs.data + s * b * h, hNext = hs.data + (s + 1) * b * h
                        w.multiply(
                            m: rows.count, a: hPrev + r0 * h, lda: h, beta: 0, c: rec.data, ldc: h3, scratch: scratch)
                        for r in rows {
                            let hp = hPrev + r * h, hnx = hNext + r * h
                            guard s < lens[r] else {
                                hnx.update(from: hp, count: h)
                                continue
                            }
                            let p = pre.data + (r * t + s) * h3, q = rec.data + (r - r0) * h3
                            let g = gates.data + (s * b + r) * h3, hq = hn.data + (s * b + r) * h
                            for j in 0..<h {
                                let rg = 1 / (1 + Foundation.exp(-(p[j] + q[j] + bHH.data[j])))
                                let zg = 1 / (1 + Foundation.exp(-(p[h + j] + q[h + j] + bHH.data[h + j])))
                                let hnj = q[2 * h + j] + bHH.data[2 * h + j]
                                let ng = Foundation.tanh(p[2 * h + j] + rg * hnj)
                                g[j] = rg
                                g[h + j] = zg
                                g[2 * h + j] = ng
                                hq[j] = hnj
                                hnx[j] = (1 - zg) * ng + zg * hp[j]
                            }
                        }
                    }
                }
            }
        }

        state?.end(hs, nil)
        let out = shape.output(hs, sequence: sequence)
        return out.recorded([x, wIH, wHH, bIH, bHH]) { _, gOut in
            gruBackward(shape, x: x, wIH: wIH, wHH: wHH, gates: gates, hn: hn, hs: hs, sequence: sequence, gOut: gOut)
        }
    }
}

/// BPTT for `Tensor.gru`: gradients for x, W_ih, W_hh, b_ih, b_hh.
func gruBackward(
    _ shape: RecurrentShape, x: Tensor, wIH: Tensor, wHH: Tensor, gates: Tensor, hn: Tensor, hs: Tensor,
    sequence: Bool, gOut: Tensor
) -> [Tensor?] {
    let (b, t, h, h3, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)
    // dI: gradient of the input-side pre-activations [B, T, 3H]; dR: of the recurrent products [B, T, 3H].
    let dI = Tensor.zeros([b, t, h3]), dR = Tensor.zeros([b, t, h3])
    let dh = Tensor.zeros([b, h])
    if !sequence { dh.data.update(from: gOut.data, count: b * h) }
    PackedB.with(transB: false, n: h, k: h3, b: wHH.data, ldb: h) { w in
        Parallel.forRanges(b, minChunk: RecurrentShape.rowsPerCore) { chunk in
            withScratch(w.scratchCount(m: chunk.count)) { scratch in
                let rows = Tensor(uninitialized: [chunk.count, h3]), dhPrev = Tensor(uninitialized: [chunk.count, h])
                for s in stride(from: t - 1, through: 0, by: -1) {
                    let active = chunk.filter { s < lens[$0] }
                    guard !active.isEmpty else { continue }
                    for (k, r) in active.enumerated() {
                        shape.addOutputGradient(gOut, step: s, row: r, sequence: sequence, into: dh.data + r * h)
                        let g = gates.data + (s * b + r) * h3, hq = hn.data + (s * b + r) * h,
                            hp = hs.data + (s * b + r) * h
                        let di = dI.data + (r * t + s) * h3, dr = dR.data + (r * t + s) * h3, row = rows.data + k * h3,
                            dhr = dh.data + r * h
                        for j in 0..<h {
                            let rg = g[j], zg = g[h + j], ng = g[2 * h + j], dhj = dhr[j]
                            let dn = dhj * (1 - zg) * (1 - ng * ng)
                            let dz = dhj * (hp[j] - ng) * zg * (1 - zg)
                            let drg = dn * hq[j] * rg * (1 - rg)
                            di[j] = drg
                            di[h + j] = dz
                            di[2 * h + j] = dn
                            dr[j] = drg
                            dr[h + j] = dz
                            dr[2 * h + j] = dn * rg
                            row[j] = drg
                            row[h + j] = dz
                            row[2 * h + j] = dn * rg
                            dhr[j] = dhj * zg  // the direct path h → h'; the gate paths are added below
                        }
                    }
                    w.multiply(
                        m: active.count, a: rows.data, lda: h3, beta: 0, c: dhPrev.data, ldc: h, scratch: scratch)
                    for (k, r) in active.enumerated() { addInPlace(dh.data + r * h, dhPrev.data + k * h, h) }
                }
            }
        }
    }
    return shape.weightGradients(x: x, wIH: wIH, wHH: wHH, hs: hs, dInput: dI, dRecurrent: dR)
}
