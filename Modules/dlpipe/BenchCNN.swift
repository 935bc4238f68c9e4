// `dlpipe bench train-cnn` / `infer-cnn`: the seed CNN (same as ../shared/peers SeedCNN) on random
// 28×28 inputs — training images/s at batch 32 (Adam), inference latency at batch 1 and images/s at 256.
import Foundation
import Tensor
import NN
import Training

func seedNet() -> Network {
    try! Network(layers: LayerSpec.seedCNN + [.classifierHead(classes: 10)], inputShape: [1, 28, 28], seed: 1)
}

func benchTrainCNN(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        withThreads(t) {
            let net = seedNet()
            let opt = Adam(net.parameters, learningRate: 1e-3)
            let batch = 32
            let x = Tensor.uniform([batch, 1, 28, 28], seed: 2)
            let y = (0..<batch).map { $0 % 10 }
            func step() {
                net.zeroGrad()
                let loss = Loss.crossEntropy(net(x), labels: y)
                loss.backward()
                opt.step()
            }
            for _ in 0..<20 { step() }
            // Median of several timed runs of 50 steps each.
            var rates: [Double] = []
            let deadline = Date().addingTimeInterval(max(opts.seconds * 4, 1))
            repeat {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<50 { step() }
                let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                rates.append(Double(50 * batch) / dt)
            } while Date() < deadline || rates.count < 5
            let med = rates.sorted()[rates.count / 2]
            if opts.json {
                print("{\"bench\":\"train-cnn\",\"batch\":\(batch),\"threads\":\(t),\"images_per_s\":\(Int(med))}")
            } else {
                rows.append([
                    "train-cnn", "32", "\(t)", "\(Int(med))", "—", fmt(1e3 * Double(batch) / med, 3) + " ms/step",
                ])
            }
        }
    }
    if !opts.json { printTable(["bench", "batch", "threads", "images/s", "latency µs", "note"], rows) }
}

func benchInferCNN(_ opts: BenchOptions) {
    var rows: [[String]] = []
    for t in opts.threadCounts {
        withThreads(t) {
            let net = seedNet()
            net.eval()
            let x1 = Tensor.uniform([1, 1, 28, 28], seed: 3), xb = Tensor.uniform([256, 1, 28, 28], seed: 4)
            var lat: [Double] = []
            for _ in 0..<50 { _ = Inference.run(net, x1) }
            for _ in 0..<max(200, Int(opts.seconds * 2000)) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = Inference.run(net, x1)
                lat.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
            }
            let medLat = lat.sorted()[lat.count / 2]
            let b = bestTime(minSeconds: opts.seconds) { _ = Inference.run(net, xb) }
            let thr = 256 / b
            if opts.json {
                print(
                    "{\"bench\":\"infer-cnn\",\"batch\":1,\"threads\":\(t),\"latency_us\":\(fmt(medLat, 1)),\"images_per_s\":\(Int(1e6 / medLat))}"
                )
                print("{\"bench\":\"infer-cnn\",\"batch\":256,\"threads\":\(t),\"images_per_s\":\(Int(thr))}")
            } else {
                rows.append(["infer-cnn", "1", "\(t)", "\(Int(1e6 / medLat))", fmt(medLat, 1)])
                rows.append(["infer-cnn", "256", "\(t)", "\(Int(thr))", "—"])
            }
        }
    }
    if !opts.json { printTable(["bench", "batch", "threads", "images/s", "median latency µs"], rows) }
}
