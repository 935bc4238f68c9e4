// `dlpipe bench gemm`: GFLOP/s of our SGEMM at square sizes and the seed CNN's conv2-as-GEMM shape.
import Foundation
import Tensor

struct GemmShape {
    let name: String
    let m: Int, n: Int, k: Int
    /// B stored [N,K], as a Dense layer's weight.
    var transB = false
}

func benchGemm(_ opts: BenchOptions) {
    let shapes =
        opts.shapes ?? [
            GemmShape(name: "256", m: 256, n: 256, k: 256),
            GemmShape(name: "512", m: 512, n: 512, k: 512),
            GemmShape(name: "1024", m: 1024, n: 1024, k: 1024),
            GemmShape(name: "conv2", m: 64, n: 32 * 121, k: 288),
            GemmShape(name: "dense1", m: 256, n: 64, k: 1600, transB: true),
        ]
    var table: [[String]] = []
    for s in shapes {
        let a = Storage(count: s.m * s.k), b = Storage(count: s.k * s.n), c = Storage(count: s.m * s.n)
        for i in 0..<a.count { a.base[i] = Float(i % 7) * 0.1 - 0.3 }
        for i in 0..<b.count { b.base[i] = Float(i % 5) * 0.1 - 0.2 }
        for t in opts.threadCounts {
            let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
            let secs = bestTime(minSeconds: opts.seconds) {
                sgemm(
                    transA: false, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a.base, lda: s.k,
                    b: b.base, ldb: s.transB ? s.k : s.n, beta: 0, c: c.base, ldc: s.n, threads: t)
            }
            let gf = flops / secs / 1e9
            if opts.json {
                print(
                    "{\"bench\":\"gemm\",\"m\":\(s.m),\"n\":\(s.n),\"k\":\(s.k),\"threads\":\(t),\"gflops\":\(fmt(gf, 1))}"
                )
            } else {
                table.append([s.name, "\(s.m)", "\(s.n)", "\(s.k)", "\(t)", fmt(gf, 1), fmt(secs * 1e3, 3)])
            }
        }
    }
    if !opts.json {
        printTable(["shape", "M", "N", "K", "threads", "GFLOP/s", "best ms"], table)
    }
}
