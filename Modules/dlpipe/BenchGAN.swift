// `dlpipe bench train-gan`: one DCGAN training step at batch 64 (the discriminator on a real and a
// generated batch, the generator through it; two Adams), as ../shared/peers torch_models.py dcgan
// (alternating: the generator through the updated discriminator) and keras_models.py dcgan (simultaneous:
// both gradients at the same weights) time it: ms per step on random images, with both update rules.
import Foundation
import Tensor
import NN
import Training
import Generative

func benchTrainGAN(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        for rule in ["alternating", "simultaneous"] {
            withThreads(t) {
                let step = GANBenchmark.makeStep(seed: 1, simultaneous: rule == "simultaneous")
                let real = Tensor.uniform([64, 1, 28, 28], seed: 2) * 2 - 1
                var random = SeededRandom(seed: 3)
                let ms = medianTime(warmup: 3, minSeconds: max(opts.seconds * 4, 2)) { step(real, &random) } * 1e3
                if opts.json {
                    print(
                        "{\"bench\":\"train-gan\",\"batch\":64,\"update\":\"\(rule)\",\"threads\":\(t),\"step_ms\":\(fmt(ms, 1))}"
                    )
                } else {
                    rows.append(["train-gan DCGAN", "64×1×28×28", rule, "\(t)", fmt(ms, 1)])
                }
            }
        }
    }
    if !opts.json { printTable(["bench", "input", "update", "threads", "ms per step"], rows) }
}
