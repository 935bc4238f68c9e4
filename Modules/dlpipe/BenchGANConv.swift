// `dlpipe bench gan-conv`: the DCGAN's five convolutions at batch 64 (generator: 5×5 transposed convs
// 256→128 on 7×7, 128→64 stride 2 to 14×14, 64→1 stride 2 to 28×28; discriminator: 5×5 stride-2 convs
// 1→64 and 64→128), forward and forward+backward, in GFLOP/s of their arithmetic: where the training
// step's time goes, layer by layer.
import Foundation
import Tensor

func benchGANConv(_ opts: BenchOptions) {
    struct Layer {
        let name: String, transposed: Bool, cin: Int, cout: Int, h: Int, stride: Int
        /// Whether the step needs this layer's input gradient (not for the images or the noise's first map).
        let inputGrad: Bool
    }
    let layers = [
        Layer(name: "G.convT1", transposed: true, cin: 256, cout: 128, h: 7, stride: 1, inputGrad: true),
        Layer(name: "G.convT2", transposed: true, cin: 128, cout: 64, h: 7, stride: 2, inputGrad: true),
        Layer(name: "G.convT3", transposed: true, cin: 64, cout: 1, h: 14, stride: 2, inputGrad: true),
        Layer(name: "D.conv1", transposed: false, cin: 1, cout: 64, h: 28, stride: 2, inputGrad: true),
        Layer(name: "D.conv2", transposed: false, cin: 64, cout: 128, h: 14, stride: 2, inputGrad: true),
    ]
    let batch = 64
    var table: [[String]] = []
    for l in layers {
        let x = Tensor.uniform([batch, l.cin, l.h, l.h], seed: 1)
        let w = Tensor.uniform(
            l.transposed ? [l.cin, l.cout, 5, 5] : [l.cout, l.cin, 5, 5], low: -0.1, high: 0.1, seed: 2)
        let run = {
            l.transposed
                ? x.convTranspose2d(w, stride: l.stride, padding: 2, outputPadding: l.stride - 1)
                : x.conv2d(w, stride: l.stride, padding: 2)
        }
        // Multiply-adds: every input pixel meets every weight of a transposed conv; every output pixel
        // every weight of a conv.
        let small = l.transposed ? l.h : (l.h + 2 * 2 - 5) / l.stride + 1
        let fwdFlops = 2.0 * Double(batch * small * small * l.cin * l.cout * 25)
        for t in opts.threadCounts {
            withThreads(t) {
                let fwd = bestTime(minSeconds: opts.seconds) { _ = Autograd.noGrad { run() } }
                x.requiresGrad = l.inputGrad
                w.requiresGrad = true
                let both = bestTime(minSeconds: opts.seconds) {
                    run().sum().backward()
                    w.grad = nil
                    x.grad = nil
                }
                x.requiresGrad = false
                w.requiresGrad = false
                let bothFlops = fwdFlops * (l.inputGrad ? 3 : 2)
                for (kind, secs, flops) in [("forward", fwd, fwdFlops), ("fwd+bwd", both, bothFlops)] {
                    let gf = flops / secs / 1e9
                    if opts.json {
                        print(
                            "{\"bench\":\"gan-conv\",\"layer\":\"\(l.name)\",\"pass\":\"\(kind)\",\"batch\":\(batch),\"threads\":\(t),\"gflops\":\(fmt(gf, 1)),\"ms\":\(fmt(secs * 1e3, 3))}"
                        )
                    } else {
                        table.append([
                            l.name, "\(l.cin)→\(l.cout)", "\(l.h)×\(l.h)", "\(l.stride)", kind, "\(t)", fmt(gf, 1),
                            fmt(secs * 1e3, 3),
                        ])
                    }
                }
            }
        }
    }
    if !opts.json {
        printTable(["layer", "channels", "input", "stride", "pass", "threads", "GFLOP/s", "best ms"], table)
    }
}
