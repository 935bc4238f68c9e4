// `dlpipe bench conv`: the seed CNN's two conv layers at batch 32 (28×28 MNIST input), forward and
// forward+backward, alone (conv + bias + ReLU) and as the fused block with the 2×2 max-pool that follows
// them, in GFLOP/s of the plain convolution's arithmetic (the fused block's backward skips most of it,
// so its figure is an effective rate: the same work, timed).
import Foundation
import Tensor

func benchConv(_ opts: BenchOptions) {
    struct Layer {
        let name: String
        let c: Int, h: Int, oc: Int
    }
    let layers = [Layer(name: "conv1", c: 1, h: 28, oc: 32), Layer(name: "conv2", c: 32, h: 13, oc: 64)]
    let batch = 32
    var table: [[String]] = []
    for l in layers {
        let x = Tensor.uniform([batch, l.c, l.h, l.h], seed: 1)
        let w = Tensor.uniform([l.oc, l.c, 3, 3], low: -0.1, high: 0.1, seed: 2)
        let b = Tensor.zeros([l.oc])
        let oh = l.h - 2
        let fwdFlops = 2.0 * Double(batch * l.oc * oh * oh * l.c * 9)
        for fused in [false, true] {
            let op = fused ? "conv+relu+pool" : "conv+relu"
            let run = { fused ? x.conv2dReluMaxPool2(w, bias: b) : x.conv2d(w, bias: b, relu: true) }
            for t in opts.threadCounts {
                withThreads(t) {
                    let fwd = bestTime(minSeconds: opts.seconds) { _ = Autograd.noGrad { run() } }
                    x.requiresGrad = l.c > 1
                    w.requiresGrad = true
                    b.requiresGrad = true
                    let both = bestTime(minSeconds: opts.seconds) {
                        run().sum().backward()
                        w.grad = nil
                        b.grad = nil
                        x.grad = nil
                    }
                    x.requiresGrad = false
                    w.requiresGrad = false
                    b.requiresGrad = false
                    // backward = 2 GEMMs of the forward's size (1 when the input needs no gradient).
                    let bothFlops = fwdFlops * (l.c > 1 ? 3 : 2)
                    for (kind, secs, flops) in [("forward", fwd, fwdFlops), ("fwd+bwd", both, bothFlops)] {
                        let gf = flops / secs / 1e9
                        if opts.json {
                            print(
                                "{\"bench\":\"conv\",\"layer\":\"\(l.name)\",\"op\":\"\(op)\",\"pass\":\"\(kind)\",\"batch\":\(batch),\"threads\":\(t),\"gflops\":\(fmt(gf, 1)),\"ms\":\(fmt(secs * 1e3, 3))}"
                            )
                        } else {
                            table.append([
                                l.name, "\(l.c)→\(l.oc)", "\(l.h)×\(l.h)", op, kind, "\(t)", fmt(gf, 1),
                                fmt(secs * 1e3, 3),
                            ])
                        }
                    }
                }
            }
        }
    }
    if !opts.json { printTable(["layer", "channels", "input", "op", "pass", "threads", "GFLOP/s", "best ms"], table) }
}
