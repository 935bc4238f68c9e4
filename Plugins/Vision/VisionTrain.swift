// vision.train: trains a CNN classifier on the image items it receives (split "train"), evaluates on
// the "test" items (never used for training or tuning), and writes the model, metrics.json and
// report.html. The training loop reads top to bottom: batches → forward → loss → backward → step.
import Foundation
import Tensor
import NN
import Media
import Pipeline

final class VisionTrain: Stage {
    let o: StageOptions
    let layers: [LayerSpec]
    var train: [(Image, String)] = []
    var test: [(Image, String, String)] = []   // image, label, file

    init(_ o: StageOptions) throws {
        self.o = o
        layers = try o.node("layers").map(LayerSpec.parse) ?? LayerSpec.seedCNN
        if o.float("scale_min") > o.float("scale_max") {
            throw ConfigError(o.position, "vision.train: scale_min must not exceed scale_max")
        }
    }

    static let spec = StageSpec(
        name: "vision.train", summary: "Train a CNN image classifier; evaluate on held-out items; write model, metrics, report",
        consumes: [.image], produces: .none,
        options: [
            OptionSpec("model", .path, required: true, doc: "where to write the trained model (.safetensors)"),
            OptionSpec("layers", .custom(summary: "layer list", validate: { _ = try LayerSpec.parse($0) }),
                       doc: "network, e.g. [{conv: {filters: 32, size: 3}}, {maxpool: 2}, {dense: 64}] (default: seed CNN)"),
            OptionSpec("epochs", .int(1...10_000), default: .int(12), doc: "passes over the training set"),
            OptionSpec("batch_size", .int(1...65_536), default: .int(32), doc: "images per optimizer step"),
            OptionSpec("optimizer", .choice(["adam", "adamw", "sgd"]), default: .string("adam"), doc: "update rule"),
            OptionSpec("learning_rate", .float(1e-7...10), default: .float(1e-3), doc: "initial learning rate"),
            OptionSpec("momentum", .float(0...0.999), default: .float(0.9), doc: "SGD momentum"),
            OptionSpec("weight_decay", .float(0...1), default: .float(0), doc: "L2 (adam, sgd) or decoupled (adamw) decay"),
            OptionSpec("schedule", .choice(["constant", "cosine", "step"]), default: .string("cosine"), doc: "learning-rate schedule over epochs"),
            OptionSpec("step_every", .int(1...10_000), default: .int(5), doc: "step schedule: epochs between decays"),
            OptionSpec("step_gamma", .float(0...1), default: .float(0.5), doc: "step schedule: decay factor"),
            OptionSpec("clip_norm", .float(0...1e6), default: .float(0), doc: "clip gradients to this global norm (0 = off)"),
            OptionSpec("seed", .int(0...Int(Int32.max)), default: .int(0), doc: "seed for initialisation, shuffling, augmentation"),
            OptionSpec("augment", .bool, default: .bool(false), doc: "random affine augmentation of training images"),
            OptionSpec("rotation", .float(0...180), default: .float(10), doc: "augmentation: max rotation in degrees"),
            OptionSpec("shift", .float(0...100), default: .float(2), doc: "augmentation: max shift in pixels"),
            OptionSpec("scale_min", .float(0.1...10), default: .float(0.9), doc: "augmentation: smallest scale"),
            OptionSpec("scale_max", .float(0.1...10), default: .float(1.1), doc: "augmentation: largest scale"),
            OptionSpec("validation_split", .float(0...0.9), default: .float(0), doc: "fraction of training images held out to track per epoch"),
            OptionSpec("metrics", .path, doc: "write metrics.json here"),
            OptionSpec("report", .path, doc: "write report.html here"),
            OptionSpec("min_test_accuracy", .float(0...1), default: .float(0), doc: "fail the run if held-out accuracy is below this"),
        ],
        make: { try VisionTrain($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let img = item.image else { return }
        guard let label = item.label else {
            try ctx.fail(item.file, "vision.train needs labelled images (read them with read.png train:/test: or a manifest)")
            return
        }
        if item.split == .test { test.append((img, label, item.file)) } else { train.append((img, label)) }
        ctx.countSuccess()
    }

    func finish(_ ctx: RunContext, emit: Emit) throws {
        guard let first = train.first?.0 else { throw StageError("vision.train", "no training images arrived") }
        for (img, _) in train where img.width != first.width || img.height != first.height || img.channels != first.channels {
            throw StageError("vision.train", "training images differ in size (\(first.width)×\(first.height) and \(img.width)×\(img.height)); add image.normalize or image.resize")
        }
        let classes = Array(Set(train.map { $0.1 })).sorted(by: FileList.naturalOrder)
        guard classes.count >= 2 else { throw StageError("vision.train", "need at least 2 classes, found \(classes)") }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let shape = [first.channels, first.height, first.width]
        var rng = SeededRandom(seed: UInt64(o.int("seed")))

        // Hold out a validation part of the training set if asked (never the test set).
        var order = Array(0..<train.count)
        rng.shuffle(&order)
        let nVal = Int(Double(train.count) * o.float("validation_split"))
        let valIdx = Array(order.prefix(nVal)), trainIdx = Array(order.dropFirst(nVal))
        let (xTrain, yTrain) = pack(trainIdx.map { train[$0] }, shape, index)
        let (xVal, yVal) = pack(valIdx.map { train[$0] }, shape, index)

        let net = try ConvNet(specs: layers, inputShape: shape, classes: classes.count, seed: UInt64(o.int("seed")))
        ctx.progress.info("vision.train: \(trainIdx.count) training images, \(nVal) validation, \(test.count) test, \(classes.count) classes")
        ctx.progress.info(net.summaryTable())

        let lr = Float(o.float("learning_rate")), wd = Float(o.float("weight_decay"))
        let opt: Optimizer
        switch o.string("optimizer") {
        case "sgd": opt = SGD(net.parameters, learningRate: lr, momentum: Float(o.float("momentum")), weightDecay: wd)
        case "adamw": opt = AdamW(net.parameters, learningRate: lr, weightDecay: wd)
        default: opt = Adam(net.parameters, learningRate: lr, weightDecay: wd)
        }
        let epochs = o.int("epochs"), batch = o.int("batch_size")
        let schedule: LRSchedule = o.string("schedule") == "cosine" ? .cosine(total: epochs, minimum: lr * 0.01)
            : o.string("schedule") == "step" ? .step(every: o.int("step_every"), gamma: Float(o.float("step_gamma"))) : .constant
        let augment: BatchLoader.Augment? = o.bool("augment") ? { [o] img, r in
            img.randomAffine(rotation: Float(o.float("rotation")), shift: Float(o.float("shift")),
                             scale: Float(o.float("scale_min"))...Float(o.float("scale_max")), rng: &r)
        } : nil

        var report = ClassifierReport(title: "dlpipe vision.train — \(URL(fileURLWithPath: o.string("model")).lastPathComponent)")
        let started = Date()
        for epoch in 1...epochs {
            opt.learningRate = schedule.rate(base: lr, at: epoch - 1)
            net.train()
            let loader = BatchLoader(images: xTrain, labels: yTrain, batchSize: batch, seed: rng.next(), augment: augment)
            let task = ctx.progress.task("epoch \(epoch)/\(epochs)", total: loader.batchCount, unit: "batches")
            let t0 = Date()
            var lossSum = 0.0, correct = 0, seen = 0, step = 0
            for (x, y) in loader {
                try ctx.checkCancelled()
                net.zeroGrad()
                let logits = net(x)
                let loss = Loss.crossEntropy(logits, labels: y)
                loss.backward()
                if o.float("clip_norm") > 0 { clipGradNorm(net.parameters, maxNorm: Float(o.float("clip_norm"))) }
                opt.step()
                lossSum += Double(loss.item) * Double(y.count)
                correct += zip(logits.argmaxRows(), y).filter { $0 == $1 }.count
                seen += y.count
                step += 1
                task.update(step, [("loss", String(format: "%.4f", lossSum / Double(seen))),
                                   ("acc", String(format: "%.4f", Double(correct) / Double(seen)))])
            }
            let secs = Date().timeIntervalSince(t0)
            let valAcc = nVal > 0 ? evaluate(net, xVal, yVal, classes).accuracy : nil
            var m = [("loss", String(format: "%.4f", lossSum / Double(seen))), ("acc", String(format: "%.4f", Double(correct) / Double(seen))),
                     ("img/s", String(Int(Double(seen) / secs)))]
            if let v = valAcc { m.append(("val_acc", String(format: "%.4f", v))) }
            task.finish(step, m)
            report.epochs.append(EpochRecord(epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                             imagesPerSecond: Double(seen) / secs, validationAccuracy: valAcc))
        }
        report.trainSeconds = Date().timeIntervalSince(started)

        if !test.isEmpty {
            let known = test.filter { index[$0.1] != nil }
            for t in test where index[t.1] == nil { try ctx.fail(t.2, "test label '\(t.1)' never occurs in training") }
            let (xTest, yTest) = pack(known.map { ($0.0, $0.1) }, shape, index)
            let predicted = predict(net, xTest)
            let ev = ClassifierEvaluation(classes: classes, truth: yTest, predicted: predicted)
            report.test = ev
            for (i, (p, t)) in zip(predicted, yTest).enumerated() where p != t && report.misclassified.count < 48 {
                report.misclassified.append((known[i].0, classes[t], classes[p]))
            }
            ctx.progress.info(String(format: "held-out accuracy: %.2f %% (%d images), training %.1f s", 100 * ev.accuracy, ev.total, report.trainSeconds))
        }
        do {
            try VisionModel.save(net, classes: classes, to: o.string("model"))
            try report.write(metrics: o.optionalString("metrics"), html: o.optionalString("report"))
        } catch { throw StageError("vision.train", "\(error)") }
        ctx.progress.info("wrote model \(o.string("model"))" + (o.optionalString("metrics").map { ", \($0)" } ?? "") + (o.optionalString("report").map { ", \($0)" } ?? ""))
        if let acc = report.test?.accuracy, acc < o.float("min_test_accuracy") {
            throw StageError("vision.train", String(format: "held-out accuracy %.4f is below min_test_accuracy %.4f", acc, o.float("min_test_accuracy")))
        }
    }

    func pack(_ items: [(Image, String)], _ shape: [Int], _ index: [String: Int]) -> (Tensor, [Int]) {
        let size = shape.reduce(1, *)
        let x = Tensor(uninitialized: [items.count] + shape)
        for (i, (img, _)) in items.enumerated() {
            let t = img.tensor()
            (x.data + i * size).update(from: t.data, count: size)
        }
        return (x, items.map { index[$0.1]! })
    }
}

/// Class indices for images [N, C, H, W], in batches of 256, without recording gradients.
func predict(_ net: ConvNet, _ x: Tensor) -> [Int] {
    net.eval()
    defer { net.train() }
    var out: [Int] = []
    let n = x.shape[0]
    for s in stride(from: 0, to: n, by: 256) {
        out += Autograd.noGrad { net(x.slice(s..<min(n, s + 256))) }.argmaxRows()
    }
    return out
}

func evaluate(_ net: ConvNet, _ x: Tensor, _ y: [Int], _ classes: [String]) -> ClassifierEvaluation {
    ClassifierEvaluation(classes: classes, truth: y, predicted: predict(net, x))
}
