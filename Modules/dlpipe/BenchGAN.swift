// `dlpipe bench train-gan`: one DCGAN training step at batch 64 (the discriminator on a real and a
// generated batch, then the generator through it; two Adams), as ../shared/peers torch_models.py dcgan
// and keras_models.py dcgan time it: ms per step on random images.
import Foundation
import Tensor
import NN
import Training
import Generative

func benchTrainGAN(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        withThreads(t) {
            let step = GANBenchmark.makeStep(seed: 1)
            let real = Tensor.uniform([64, 1, 28, 28], seed: 2) * 2 - 1
            var random = SeededRandom(seed: 3)
            let ms = medianTime(warmup: 3, minSeconds: max(opts.seconds * 4, 2)) { step(real, &random) } * 1e3
            if opts.json {
                print("{\"bench\":\"train-gan\",\"batch\":64,\"threads\":\(t),\"step_ms\":\(fmt(ms, 1))}")
            } else {
                rows.append(["train-gan DCGAN", "64×1×28×28", "\(t)", fmt(ms, 1)])
            }
        }
    }
    if !opts.json { printTable(["bench", "input", "threads", "ms per step"], rows) }
}
