// `dlpipe bench conv-shapes`: convolutions at the widths people use — the DCGAN's five layers, the seed
// CNN's two, ResNet-like 3×3 64→64 on 56×56 and 128→128 on 28×28, a 1×1 256→64 and a 7×7 stride-2 stem —
// each pass on its own (forward, input gradient, weight gradient), in GFLOP/s of its arithmetic and in % of
// `bench peak` on the same threads. scripts/conv-shapes-peer.py times the same shapes and passes in
// TensorFlow and PyTorch.
import Foundation
import Tensor

/// One convolution of the table: NCHW input [batch, cin, size, size], square kernel.
struct ConvShape {
    let name: String, transposed: Bool
    let batch: Int, cin: Int, cout: Int, size: Int, kernel: Int, stride: Int, padding: Int
    var outputPadding: Int { transposed ? stride - 1 : 0 }

    /// Multiply-adds of one pass: every output pixel meets every weight of a conv, every input pixel every
    /// weight of a transposed conv. The input- and weight-gradient passes do as many.
    var macs: Double {
        let pixels =
            transposed
            ? size * size
            : {
                let o = (size + 2 * padding - kernel) / stride + 1
                return o * o
            }()
        return Double(batch * pixels * cin * cout * kernel * kernel)
    }

    static let table = [
        ConvShape(
            name: "dcgan.G.convT1", transposed: true, batch: 64, cin: 256, cout: 128, size: 7, kernel: 5, stride: 1,
            padding: 2),
        ConvShape(
            name: "dcgan.G.convT2", transposed: true, batch: 64, cin: 128, cout: 64, size: 7, kernel: 5, stride: 2,
            padding: 2),
        ConvShape(
            name: "dcgan.G.convT3", transposed: true, batch: 64, cin: 64, cout: 1, size: 14, kernel: 5, stride: 2,
            padding: 2),
        ConvShape(
            name: "dcgan.D.conv1", transposed: false, batch: 64, cin: 1, cout: 64, size: 28, kernel: 5, stride: 2,
            padding: 2),
        ConvShape(
            name: "dcgan.D.conv2", transposed: false, batch: 64, cin: 64, cout: 128, size: 14, kernel: 5, stride: 2,
            padding: 2),
        ConvShape(
            name: "seed.conv1", transposed: false, batch: 32, cin: 1, cout: 32, size: 28, kernel: 3, stride: 1,
            padding: 0),
        ConvShape(
            name: "seed.conv2", transposed: false, batch: 32, cin: 32, cout: 64, size: 13, kernel: 3, stride: 1,
            padding: 0),
        ConvShape(
            name: "resnet.3x3.64", transposed: false, batch: 8, cin: 64, cout: 64, size: 56, kernel: 3, stride: 1,
            padding: 1),
        ConvShape(
            name: "resnet.3x3.128", transposed: false, batch: 16, cin: 128, cout: 128, size: 28, kernel: 3, stride: 1,
            padding: 1),
        ConvShape(
            name: "resnet.1x1.256-64", transposed: false, batch: 16, cin: 256, cout: 64, size: 28, kernel: 1, stride: 1,
            padding: 0),
        ConvShape(
            name: "stem.7x7.s2", transposed: false, batch: 4, cin: 3, cout: 64, size: 224, kernel: 7, stride: 2,
            padding: 3),
    ]
}

func benchConvShapes(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        let peak = peakGFLOPS(threads: t, seconds: opts.seconds)
        for s in ConvShape.table {
            let x = Tensor.uniform([s.batch, s.cin, s.size, s.size], seed: 1)
            let w = Tensor.uniform(
                s.transposed ? [s.cin, s.cout, s.kernel, s.kernel] : [s.cout, s.cin, s.kernel, s.kernel], low: -0.1,
                high: 0.1,
                seed: 2)
            let run = {
                s.transposed
                    ? x.convTranspose2d(w, stride: s.stride, padding: s.padding, outputPadding: s.outputPadding)
                    : x.conv2d(w, stride: s.stride, padding: s.padding)
            }
            var times: [(pass: String, seconds: Double)] = []
            withThreads(t) {
                times.append(("forward", bestTime(minSeconds: opts.seconds) { _ = Autograd.noGrad { run() } }))
                // A gradient pass alone: the forward pass with the graph recorded, then with the backward
                // pass of that one operand; the difference is the pass.
                for (pass, input) in [("input-grad", true), ("weight-grad", false)] {
                    x.requiresGrad = input
                    w.requiresGrad = !input
                    let recorded = bestTime(minSeconds: opts.seconds) { _ = run() }
                    let both = bestTime(minSeconds: opts.seconds) {
                        run().sum().backward()
                        x.grad = nil
                        w.grad = nil
                    }
                    times.append((pass, max(both - recorded, 1e-9)))
                }
                x.requiresGrad = false
                w.requiresGrad = false
            }
            for (pass, secs) in times {
                let gf = 2 * s.macs / secs / 1e9, percent = 100 * gf / peak
                if opts.json {
                    print(
                        "{\"bench\":\"conv-shapes\",\"shape\":\"\(s.name)\",\"pass\":\"\(pass)\",\"threads\":\(t),\"gflops\":\(fmt(gf, 1)),\"ms\":\(fmt(secs * 1e3, 3)),\"peak_percent\":\(fmt(percent, 1))}"
                    )
                } else {
                    rows.append([
                        s.name, "\(s.cin)→\(s.cout)", "\(s.size)²", "\(s.kernel)×\(s.kernel)/\(s.stride)", pass, "\(t)",
                        fmt(gf, 1), fmt(percent, 1), fmt(secs * 1e3, 3),
                    ])
                }
            }
        }
    }
    if !opts.json {
        printTable(["shape", "channels", "input", "kernel", "pass", "threads", "GFLOP/s", "% peak", "best ms"], rows)
    }
}
