// `dlpipe bench train-text`: the character model of pipelines/text-train.conf (embedding 64 → LSTM
// 2 × 256 → dense per step over 80 characters) trained by truncated BPTT, 32 streams × 100 characters per
// step with the state carried: characters per second. scripts/text-torch-peer.py is the PyTorch twin.
import Foundation
import Tensor
import NN
import Training

func benchTrainText(_ opts: BenchOptions) {
    var rows: [[String]] = []
    let vocabulary = 80, streams = 32, window = 100
    for t in opts.threadCounts {
        withThreads(t) {
            let net = try! Network(
                layers: [
                    .embedding(vocabulary: vocabulary, size: 64),
                    .recurrent(RecurrentSpec(.lstm, hidden: 256, layers: 2, sequence: true)),
                    .dense(units: vocabulary, activation: .none, bias: true),
                ], inputShape: [window], seed: 1)
            let opt = Adam(net.parameters, learningRate: 2e-3)
            var rng = SeededRandom(seed: 4)
            let x = Tensor(
                (0..<(streams * window)).map { _ in Float(rng.nextInt(vocabulary)) }, shape: [streams, window])
            let y = (0..<(streams * window)).map { _ in rng.nextInt(vocabulary) }
            net.carryRecurrentState(true)
            let step = medianTime(warmup: 2, minSeconds: max(opts.seconds * 4, 2)) {
                net.zeroGrad()
                Loss.crossEntropy(net(x).reshaped([streams * window, vocabulary]), labels: y).backward()
                opt.step()
            }
            let rate = Double(streams * window) / step
            if opts.json {
                print(
                    "{\"bench\":\"train-text\",\"streams\":\(streams),\"window\":\(window),\"threads\":\(t),\"step_ms\":\(fmt(step * 1e3, 2)),\"chars_per_s\":\(fmt(rate, 0))}"
                )
            } else {
                rows.append(["train-text lstm 2×256", "\(streams)×\(window)", "\(t)", fmt(step * 1e3, 2), fmt(rate, 0)])
            }
        }
    }
    if !opts.json { printTable(["bench", "input", "threads", "ms per step", "characters/s"], rows) }
}
