// `dlpipe bench KIND [--json] [--threads 1,2] [--seconds S]`: micro-benchmarks that print a table,
// or one JSON object per line for scripts. Timings are best-of-N after a warm-up.
import Foundation
import Tensor

struct BenchOptions {
    var json = false
    var threadCounts: [Int] = [1, 2]
    var seconds = 0.5
    var shapes: [GemmShape]? = nil
}

/// One benchmark: its name, one line for the usage, and what runs it. The table drives the usage, the
/// dispatch and the list of known kinds in errors.
struct BenchKind {
    let name: String, summary: String
    let run: (BenchOptions) -> Void
}

let benchKinds: [BenchKind] = [
    BenchKind(
        name: "gemm",
        summary: "SGEMM GFLOP/s at 256³, 512³, 1024³ and the seed CNN's conv2 as GEMM (M=64, N=32·121, K=288)",
        run: benchGemm),
    BenchKind(
        name: "conv",
        summary:
            "conv2d forward/backward GFLOP/s for the seed CNN's layers at batch 32, alone and fused with ReLU + max-pool",
        run: benchConv),
    BenchKind(
        name: "conv-shapes",
        summary:
            "convolutions at real widths (DCGAN, seed CNN, ResNet 3×3 and 1×1, 7×7 stem): forward, input-gradient and weight-gradient GFLOP/s and % of peak",
        run: benchConvShapes),
    BenchKind(name: "train-cnn", summary: "seed CNN training images/s (batch 32, Adam)", run: benchTrainCNN),
    BenchKind(
        name: "infer-cnn", summary: "seed CNN inference: batch-1 median latency and batch-256 images/s",
        run: benchInferCNN),
    BenchKind(
        name: "train-lstm",
        summary: "2-layer LSTM (64 units) on 50 × 13 features, batch 32, Adam: ms per training step",
        run: benchTrainLSTM),
    BenchKind(
        name: "infer-lstm", summary: "the same network on one 50-step sequence: median latency", run: benchInferLSTM),
    BenchKind(
        name: "train-text",
        summary:
            "character LSTM (embedding 64, 2 × 256, 80 characters), 32 streams × 100 characters, Adam: characters/s",
        run: benchTrainText),
    BenchKind(
        name: "mfcc",
        summary: "MFCCs of a 1-s 16 kHz clip: first call, one at a time, and 64 clips over the threads (µs per clip)",
        run: benchMFCC),
    BenchKind(
        name: "train-gan",
        summary: "the DCGAN's training step at batch 64 (discriminator on real and generated, then generator): ms",
        run: benchTrainGAN),
    BenchKind(
        name: "gan-conv",
        summary: "the DCGAN's five 5×5 convolutions at batch 64, forward and forward+backward: GFLOP/s per layer",
        run: benchGANConv),
    BenchKind(
        name: "peak",
        summary:
            "the cores' fp32 FMA ceiling (register-only FMA chains per thread): GFLOP/s, the yardstick for the rest",
        run: benchPeak),
]

let benchUsage = """
    usage: dlpipe bench KIND [--json] [--threads LIST] [--seconds S] [--size MxNxK]

    Kinds:
    \(benchKinds.map { "  " + $0.name.padding(toLength: 12, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

    Options:
      --json            one JSON object per line, e.g. {"bench":"gemm","m":1024,...,"gflops":183.1}
      --threads LIST    thread counts to measure, comma separated (default 1,2)
      --seconds S       time budget per measurement (default 0.5)
      --size MxNxK      gemm only: measure this shape instead of the defaults
    """

func runBench(_ args: [String]) -> Int32 {
    var opts = BenchOptions()
    var kind: String?
    var i = 0
    while i < args.count {
        let a = args[i]
        switch a {
        case "-h", "--help":
            print(benchUsage)
            return 0
        case "--json": opts.json = true
        case "--threads", "--seconds", "--size":
            guard i + 1 < args.count else { return usageError("bench: \(a) needs a value\n\n" + benchUsage) }
            let v = args[i + 1]
            i += 1
            if a == "--threads" {
                let ts = v.split(separator: ",").compactMap { Int($0) }
                guard !ts.isEmpty, ts.allSatisfy({ $0 >= 1 && $0 <= 256 }) else {
                    return usageError("bench: --threads wants a list like 1,2 (got '\(v)')")
                }
                opts.threadCounts = ts
            } else if a == "--seconds" {
                guard let s = Double(v), s > 0, s < 600 else {
                    return usageError("bench: --seconds wants a number > 0 (got '\(v)')")
                }
                opts.seconds = s
            } else {
                let d = v.split(separator: "x").compactMap { Int($0) }
                guard d.count == 3, d.allSatisfy({ $0 >= 1 && $0 <= 8192 }) else {
                    return usageError("bench: --size wants MxNxK, each 1...8192 (got '\(v)')")
                }
                opts.shapes = [GemmShape(name: v, m: d[0], n: d[1], k: d[2])]
            }
        default:
            if a.hasPrefix("-") { return usageError("bench: unknown option '\(a)'\n\n" + benchUsage) }
            guard kind == nil else { return usageError("bench: one KIND at a time (got '\(kind!)' and '\(a)')") }
            kind = a
        }
        i += 1
    }
    let known = benchKinds.map(\.name).joined(separator: ", ")
    guard let kind else { return usageError("bench: which benchmark? (\(known))\n\n" + benchUsage) }
    guard let bench = benchKinds.first(where: { $0.name == kind }) else {
        return usageError("bench: unknown benchmark '\(kind)' (known: \(known))")
    }
    bench.run(opts)
    return 0
}

/// Best wall time of `body` over repeated runs within about `minSeconds` (after one warm-up call).
func bestTime(minSeconds: Double, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    let start = DispatchTime.now().uptimeNanoseconds
    var runs = 0
    while true {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        let t1 = DispatchTime.now().uptimeNanoseconds
        best = min(best, Double(t1 - t0) / 1e9)
        runs += 1
        if runs >= 3 && Double(t1 - start) / 1e9 >= minSeconds { break }
    }
    return best
}

/// Runs `body` with the kernels limited to `threads` worker threads, restoring the setting afterwards.
func withThreads(_ threads: Int, _ body: () -> Void) {
    let saved = Parallel.threads
    Parallel.threads = threads
    defer { Parallel.threads = saved }
    body()
}

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map { $0.count }
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in String(repeating: " ", count: widths[i] - c.count) + c }.joined(
            separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for r in rows { print(line(r)) }
}
