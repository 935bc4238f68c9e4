// One epoch of classifier training, shared by every plugin that classifies (images, feature
// sequences): batches → forward → cross-entropy → backward → step, with a progress line, and the
// validation split evaluated at the end of the epoch.
import Foundation
import Tensor
import NN
import Pipeline

public struct ClassifierTrainer {
    public let net: Network
    public let group: ParameterGroup
    /// Metric name for throughput, e.g. "images_per_s".
    public let throughputName: String

    public init(net: Network, group: ParameterGroup, throughputName: String) {
        self.net = net
        self.group = group
        self.throughputName = throughputName
    }

    /// Trains one pass over `batches` and returns loss, accuracy, throughput and, when `validation`
    /// holds examples, validation accuracy.
    public func epoch<B: Sequence>(
        _ e: Int, of epochs: Int, batches: B, batchCount: Int, validation: LabelledBatch?,
        ctx: RunContext, lastCheckpoint: @autoclosure () -> String?
    ) throws -> [Metric] where B.Element == LabelledBatch {
        let task = ctx.progress.task("epoch \(e + 1)/\(epochs)", total: batchCount, unit: "batches")
        let t0 = Date()
        var lossSum = 0.0, correct = 0, seen = 0, step = 0
        for b in batches {
            try ctx.checkCancelled()
            group.zeroGrad()
            let logits = net(b.x, lengths: b.lengths)
            let loss = Loss.crossEntropy(logits, labels: b.labels)
            try FiniteLossGuard.check(loss.item, epoch: e, step: step, lastCheckpoint: lastCheckpoint())
            loss.backward()
            group.step()
            lossSum += Double(loss.item) * Double(b.labels.count)
            correct += zip(logits.argmaxRows(), b.labels).filter { $0 == $1 }.count
            seen += b.labels.count
            step += 1
            task.update(
                step,
                [
                    ("loss", String(format: "%.4f", lossSum / Double(seen))),
                    ("acc", String(format: "%.4f", Double(correct) / Double(seen))),
                ])
        }
        let secs = Date().timeIntervalSince(t0)
        var m = [
            Metric("loss", lossSum / Double(max(seen, 1))), Metric("accuracy", Double(correct) / Double(max(seen, 1))),
            Metric(throughputName, Double(seen) / max(secs, 1e-9)),
        ]
        var shown = [
            ("loss", String(format: "%.4f", m[0].value)), ("acc", String(format: "%.4f", m[1].value)),
            (throughputName.replacingOccurrences(of: "_per_s", with: "/s"), String(Int(m[2].value))),
        ]
        if let v = validation, !v.labels.isEmpty {
            let logits = Inference.evaluate(net, v.x, lengths: v.lengths)
            let loss = Double(Autograd.noGrad { Loss.crossEntropy(logits, labels: v.labels) }.item)
            let acc = Double(zip(logits.argmaxRows(), v.labels).filter { $0 == $1 }.count) / Double(v.labels.count)
            m += [Metric("validation_loss", loss), Metric("validation_accuracy", acc)]
            shown += [("val_loss", String(format: "%.4f", loss)), ("val_acc", String(format: "%.4f", acc))]
        }
        task.finish(step, shown)
        return m
    }
}
