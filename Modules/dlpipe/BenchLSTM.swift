// `dlpipe bench train-lstm` / `infer-lstm`: the peers' sequence model (../shared/peers SeqNet:
// nn.LSTM(13, 64, num_layers=2, batch_first=True) → Linear(64, 10) on the last state) on random
// inputs — ms per training step at batch 32 × 50 steps (Adam), and batch-1 latency for one sequence.
import Foundation
import Tensor
import NN
import Training

func sequenceNet() -> Network {
    try! Network(
        layers: [
            .recurrent(RecurrentSpec(.lstm, hidden: 64, layers: 2)), .dense(units: 10, activation: .none, bias: true),
        ],
        inputShape: [50, 13], seed: 1)
}

/// Median of `repeats` timings of `body`, in seconds, after `warmup` untimed calls.
func medianTime(warmup: Int, minSeconds: Double, _ body: () -> Void) -> Double {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    let deadline = Date().addingTimeInterval(minSeconds)
    repeat {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    } while Date() < deadline || times.count < 10
    return times.sorted()[times.count / 2]
}

func benchTrainLSTM(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        withThreads(t) {
            let net = sequenceNet()
            let opt = Adam(net.parameters, learningRate: 1e-3)
            let x = Tensor.normal([32, 50, 13], seed: 2)
            let y = (0..<32).map { $0 % 10 }
            let step = medianTime(warmup: 3, minSeconds: max(opts.seconds * 4, 1)) {
                net.zeroGrad()
                Loss.crossEntropy(net(x), labels: y).backward()
                opt.step()
            }
            if opts.json {
                print(
                    "{\"bench\":\"train-lstm\",\"batch\":32,\"steps\":50,\"threads\":\(t),\"step_ms\":\(fmt(step * 1e3, 2))}"
                )
            } else {
                rows.append(["train-lstm 2×64", "32×50×13", "\(t)", fmt(step * 1e3, 2)])
            }
        }
    }
    if !opts.json { printTable(["bench", "input", "threads", "ms per step"], rows) }
}

func benchInferLSTM(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        withThreads(t) {
            let net = sequenceNet()
            net.eval()
            let x = Tensor.normal([1, 50, 13], seed: 3)
            let lat = medianTime(warmup: 20, minSeconds: max(opts.seconds, 0.5)) { _ = Inference.run(net, x) }
            if opts.json {
                print(
                    "{\"bench\":\"infer-lstm\",\"batch\":1,\"steps\":50,\"threads\":\(t),\"latency_us\":\(fmt(lat * 1e6, 1))}"
                )
            } else {
                rows.append(["infer-lstm 2×64", "1×50×13", "\(t)", fmt(lat * 1e6, 1)])
            }
        }
    }
    if !opts.json { printTable(["bench", "input", "threads", "median latency µs"], rows) }
}
