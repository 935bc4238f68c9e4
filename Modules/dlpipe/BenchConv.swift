// `dlpipe bench conv`: the seed CNN's two conv layers at batch 32 (28×28 MNIST input),
// forward and forward+backward, in GFLOP/s of useful convolution arithmetic.
import Foundation
import Tensor

func benchConv(_ opts: BenchOptions) {
    struct Layer { let name: String; let c: Int, h: Int, oc: Int }
    let layers = [Layer(name: "conv1", c: 1, h: 28, oc: 32), Layer(name: "conv2", c: 32, h: 13, oc: 64)]
    let batch = 32
    var table: [[String]] = []
    for l in layers {
        let x = Tensor.uniform([batch, l.c, l.h, l.h], seed: 1)
        let w = Tensor.uniform([l.oc, l.c, 3, 3], low: -0.1, high: 0.1, seed: 2)
        let b = Tensor.zeros([l.oc])
        let oh = l.h - 2
        let fwdFlops = 2.0 * Double(batch * l.oc * oh * oh * l.c * 9)
        for t in opts.threadCounts { withThreads(t) {
            let fwd = bestTime(minSeconds: opts.seconds) {
                _ = Autograd.noGrad { x.conv2d(w, bias: b, relu: true) }
            }
            x.requiresGrad = l.c > 1; w.requiresGrad = true; b.requiresGrad = true
            let both = bestTime(minSeconds: opts.seconds) {
                let y = x.conv2d(w, bias: b, relu: true)
                y.sum().backward()
                w.grad = nil; b.grad = nil; x.grad = nil
            }
            x.requiresGrad = false; w.requiresGrad = false; b.requiresGrad = false
            // backward = 2 GEMMs of the forward's size (1 when the input needs no gradient).
            let bothFlops = fwdFlops * (l.c > 1 ? 3 : 2)
            for (kind, secs, flops) in [("forward", fwd, fwdFlops), ("fwd+bwd", both, bothFlops)] {
                let gf = flops / secs / 1e9
                if opts.json {
                    print("{\"bench\":\"conv\",\"layer\":\"\(l.name)\",\"pass\":\"\(kind)\",\"batch\":\(batch),\"threads\":\(t),\"gflops\":\(fmt(gf, 1)),\"ms\":\(fmt(secs * 1e3, 3))}")
                } else {
                    table.append([l.name, "\(l.c)→\(l.oc)", "\(l.h)×\(l.h)", kind, "\(t)", fmt(gf, 1), fmt(secs * 1e3, 3)])
                }
            }
        } }
    }
    if !opts.json { printTable(["layer", "channels", "input", "pass", "threads", "GFLOP/s", "best ms"], table) }
}
