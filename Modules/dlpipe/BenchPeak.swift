// `dlpipe bench peak`: the cores' fp32 FMA ceiling (register-only FMA chains, one per thread), the
// yardstick for every other figure: a GEMM or a training step at X GFLOP/s is X / peak of what the VM can do.
import Foundation
import Tensor
import CKernels

func benchPeak(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        let gf = peakGFLOPS(threads: t, seconds: opts.seconds)
        if opts.json {
            print("{\"bench\":\"peak\",\"threads\":\(t),\"gflops\":\(fmt(gf, 1))}")
        } else {
            rows.append(["fma peak", "\(t)", fmt(gf, 1)])
        }
    }
    if !opts.json { printTable(["bench", "threads", "GFLOP/s"], rows) }
}

/// The fp32 FMA rate of `threads` cores on register-only chains, GFLOP/s.
func peakGFLOPS(threads t: Int, seconds: Double) -> Double {
    let iterations = 2_000_000
    // One chain set per thread, each on its own pool thread for the same number of rounds.
    var flops = [Double](repeating: 0, count: t)
    var secs = 0.0
    withThreads(t) {
        secs = bestTime(minSeconds: seconds) {
            flops.withUnsafeMutableBufferPointer { f in
                let out = f.baseAddress!
                Parallel.run(t) { i in
                    var sink: Float = 0
                    out[i] = dlp_fma_peak_flops(iterations, &sink)
                }
            }
        }
    }
    return flops.reduce(0, +) / secs / 1e9
}
