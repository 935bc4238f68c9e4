// One GRU layer over a batch of sequences, as PyTorch's nn.GRU (batch_first, gate order r, z, n):
//   r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr),  z = σ(x·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
//   n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn)),  h' = (1 − z)·n + z·h
// As in Ops/LSTM.swift: one GEMM for the input projection of all steps, one small GEMM and one fused
// pass per step, state kept after each sequence's length, and BPTT with whole-batch weight GEMMs.
// The recurrent product of n is kept apart from its input part, since r multiplies only it.
import Foundation

extension Tensor {
    /// x: [B, T, I]; weights [3H, I], [3H, H]; biases [3H]. Returns [B, T, H] (zero after each sequence's
    /// length) if `sequence`, else the last state of each sequence [B, H]. With `state`, starts from its h
    /// (when it fits) and leaves the final one there.
    public func gru(_ wIH: Tensor, _ wHH: Tensor, _ bIH: Tensor, _ bHH: Tensor, lengths: [Int]? = nil, sequence: Bool,
                    state: RecurrentState? = nil) -> Tensor {
        let x = self
        let shape = RecurrentShape("gru", x: x, wIH, wHH, bIH, bHH, gates: 3, lengths: lengths)
        let (b, t, h, h3, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)

        // Per step: activated r, z, n [T, B, 3H] and the recurrent part of n before r, h·W_hnᵀ + b_hn [T, B, H].
        let gates = Tensor(uninitialized: [t, b, h3]), hn = Tensor(uninitialized: [t, b, h])
        let hs = Tensor.zeros([t + 1, b, h])
        state?.start(hs, nil)
        let pre = shape.inputProjection(x, wIH, bias: (0..<h3).map { bIH.data[$0] })
        let rec = Tensor(uninitialized: [b, h3])
        for s in 0..<t {
            let hPrev = hs.data + s * b * h, hNext = hs.data + (s + 1) * b * h
            sgemm(transA: false, transB: true, m: b, n: h3, k: h, a: hPrev, lda: h, b: wHH.data, ldb: h, beta: 0, c: rec.data, ldc: h3)
            for r in 0..<b {
                let hp = hPrev + r * h, hnx = hNext + r * h
                guard s < lens[r] else { hnx.update(from: hp, count: h); continue }
                let p = pre.data + (r * t + s) * h3, q = rec.data + r * h3
                let g = gates.data + (s * b + r) * h3, hq = hn.data + (s * b + r) * h
                for j in 0..<h {
                    let rg = 1 / (1 + Foundation.exp(-(p[j] + q[j] + bHH.data[j])))
                    let zg = 1 / (1 + Foundation.exp(-(p[h + j] + q[h + j] + bHH.data[h + j])))
                    let hnj = q[2 * h + j] + bHH.data[2 * h + j]
                    let ng = Foundation.tanh(p[2 * h + j] + rg * hnj)
                    g[j] = rg; g[h + j] = zg; g[2 * h + j] = ng; hq[j] = hnj
                    hnx[j] = (1 - zg) * ng + zg * hp[j]
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
func gruBackward(_ shape: RecurrentShape, x: Tensor, wIH: Tensor, wHH: Tensor, gates: Tensor, hn: Tensor, hs: Tensor,
                 sequence: Bool, gOut: Tensor) -> [Tensor?] {
    let (b, t, h, h3, lens) = (shape.b, shape.t, shape.h, shape.width, shape.lengths)
    // dI: gradient of the input-side pre-activations [B, T, 3H]; dR: of the recurrent products [B, T, 3H].
    let dI = Tensor.zeros([b, t, h3]), dR = Tensor.zeros([b, t, h3])
    var dh = [Float](repeating: 0, count: b * h)
    if !sequence { for k in 0..<(b * h) { dh[k] = gOut.data[k] } }
    let rows = Tensor(uninitialized: [b, h3]), dhPrev = Tensor(uninitialized: [b, h])
    for s in stride(from: t - 1, through: 0, by: -1) {
        let active = (0..<b).filter { s < lens[$0] }
        guard !active.isEmpty else { continue }
        for (k, r) in active.enumerated() {
            dh.withUnsafeMutableBufferPointer { shape.addOutputGradient(gOut, step: s, row: r, sequence: sequence, into: $0.baseAddress! + r * h) }
            let g = gates.data + (s * b + r) * h3, hq = hn.data + (s * b + r) * h, hp = hs.data + (s * b + r) * h
            let di = dI.data + (r * t + s) * h3, dr = dR.data + (r * t + s) * h3, row = rows.data + k * h3
            for j in 0..<h {
                let rg = g[j], zg = g[h + j], ng = g[2 * h + j], dhj = dh[r * h + j]
                let dn = dhj * (1 - zg) * (1 - ng * ng)
                let dz = dhj * (hp[j] - ng) * zg * (1 - zg)
                let drg = dn * hq[j] * rg * (1 - rg)
                di[j] = drg; di[h + j] = dz; di[2 * h + j] = dn
                dr[j] = drg; dr[h + j] = dz; dr[2 * h + j] = dn * rg
                row[j] = drg; row[h + j] = dz; row[2 * h + j] = dn * rg
                dh[r * h + j] = dhj * zg          // the direct path h → h'; the gate paths are added below
            }
        }
        sgemm(transA: false, transB: false, m: active.count, n: h, k: h3, a: rows.data, lda: h3, b: wHH.data, ldb: h, beta: 0,
              c: dhPrev.data, ldc: h)
        for (k, r) in active.enumerated() { for j in 0..<h { dh[r * h + j] += dhPrev.data[k * h + j] } }
    }
    return shape.weightGradients(x: x, wIH: wIH, wHH: wHH, hs: hs, dInput: dI, dRecurrent: dR)
}
