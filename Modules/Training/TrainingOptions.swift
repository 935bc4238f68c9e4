// The training options every training stage offers, typed once: the loop (epochs, batch size, seed,
// checkpoints) and the optimizer with its schedule. A stage splices these option specs into its own
// schema; a stage with two networks (a GAN) splices the optimizer block twice under two prefixes.
import Foundation
import Tensor
import NN
import Pipeline

/// Epochs, batch size, seed and checkpointing.
public struct LoopSettings {
    public var epochs = 12, batchSize = 32, seed = 0
    /// Write a resumable checkpoint every this many epochs (0 = never).
    public var checkpointEvery = 0
    public var checkpointPath: String?
    /// Minutes of training after which no further epoch starts (0 = no budget); the learning-rate schedule is
    /// planned over the epochs that fit.
    public var timeBudget = 0.0
    /// Settings (or a stage's defaults) given by value; the rest as in a plain loop.
    public init(epochs: Int = 12, batchSize: Int = 32) {
        self.epochs = epochs
        self.batchSize = batchSize
    }

    public static func options(defaults d: LoopSettings = LoopSettings()) -> [OptionSpec] {
        [
            OptionSpec("epochs", .int(1...10_000), default: .int(d.epochs), doc: "passes over the training set"),
            OptionSpec("batch_size", .int(1...65_536), default: .int(d.batchSize), doc: "examples per optimizer step"),
            OptionSpec(
                "seed", .int(0...Int(Int32.max)), default: .int(d.seed),
                doc: "seed for initialisation, shuffling, augmentation, dropout"),
            OptionSpec(
                "checkpoint_every", .int(0...10_000), default: .int(0),
                doc: "write a resumable checkpoint every N epochs (0 = never); `dlpipe run --resume` continues from it"),
            OptionSpec("checkpoint", .outputFile, doc: "checkpoint file (default: the model path + '.checkpoint')"),
            OptionSpec(
                "time_budget", .float(0...1_000_000), default: .float(0),
                doc:
                    "minutes of training: after each epoch the epochs that fit are planned from the time taken so far, the learning-rate schedule runs over them, and training stops there (0 = no budget; the report says when it stopped)"
            ),
        ]
    }

    /// Reads the options; `model` names the default checkpoint file.
    public init(_ o: StageOptions, model: String) {
        epochs = o.int("epochs")
        batchSize = o.int("batch_size")
        seed = o.int("seed")
        checkpointEvery = o.int("checkpoint_every")
        checkpointPath = o.optionalString("checkpoint") ?? model + ".checkpoint"
        timeBudget = o.float("time_budget")
    }
}

/// One optimizer with its learning-rate schedule and gradient clipping.
public struct OptimizerSettings: Equatable {
    public enum Kind: String, CaseIterable { case sgd, momentum, nesterov, adam, adamw }
    public enum Schedule: String, CaseIterable { case constant, cosine, step }
    public var kind = Kind.adam
    public var learningRate = 1e-3, momentum = 0.9, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    public var schedule = Schedule.cosine
    public var warmupEpochs = 0, stepEvery = 5
    public var stepGamma = 0.5, clipNorm = 0.0
    /// Settings (or a stage's defaults) given by value; the rest as in a plain Adam with a cosine schedule.
    public init(
        kind: Kind = .adam, learningRate: Double = 1e-3, beta1: Double = 0.9, schedule: Schedule = .cosine,
        clipNorm: Double = 0
    ) {
        self.kind = kind
        self.learningRate = learningRate
        self.beta1 = beta1
        self.schedule = schedule
        self.clipNorm = clipNorm
    }

    /// The option specs, named `prefix` + name (a GAN uses "generator_" and "discriminator_").
    public static func options(prefix p: String = "", defaults d: OptimizerSettings = OptimizerSettings())
        -> [OptionSpec]
    {
        [
            OptionSpec(
                p + "optimizer", .choice(Kind.allCases.map { $0.rawValue }), default: .string(d.kind.rawValue),
                doc: "update rule: sgd (plain), momentum, nesterov, adam, adamw (decoupled weight decay)"),
            OptionSpec(
                p + "learning_rate", .float(1e-7...10), default: .float(d.learningRate), doc: "initial learning rate"),
            OptionSpec(
                p + "momentum", .float(0...0.999), default: .float(d.momentum),
                doc: "momentum and nesterov: momentum factor"),
            OptionSpec(
                p + "beta1", .float(0...0.9999), default: .float(d.beta1), doc: "adam/adamw: first-moment decay"),
            OptionSpec(
                p + "beta2", .float(0...0.99999), default: .float(d.beta2), doc: "adam/adamw: second-moment decay"),
            OptionSpec(p + "eps", .float(1e-12...1), default: .float(d.eps), doc: "adam/adamw: denominator term"),
            OptionSpec(
                p + "weight_decay", .float(0...1), default: .float(d.weightDecay),
                doc: "L2 (sgd, momentum, nesterov, adam) or decoupled (adamw) decay"),
            OptionSpec(
                p + "schedule", .choice(Schedule.allCases.map { $0.rawValue }), default: .string(d.schedule.rawValue),
                doc: "learning-rate schedule over epochs (cosine ends at 1 % of the initial rate)"),
            OptionSpec(
                p + "warmup_epochs", .int(0...10_000), default: .int(d.warmupEpochs),
                doc: "epochs of linear warm-up before the schedule starts"),
            OptionSpec(
                p + "step_every", .int(1...10_000), default: .int(d.stepEvery),
                doc: "step schedule: epochs between decays"),
            OptionSpec(
                p + "step_gamma", .float(0...1), default: .float(d.stepGamma), doc: "step schedule: decay factor"),
            OptionSpec(
                p + "clip_norm", .float(0...1e6), default: .float(d.clipNorm),
                doc: "clip gradients to this global norm (0 = off)"),
        ]
    }

    public init(_ o: StageOptions, prefix p: String = "") {
        kind = Kind(rawValue: o.string(p + "optimizer"))!
        learningRate = o.float(p + "learning_rate")
        momentum = o.float(p + "momentum")
        beta1 = o.float(p + "beta1")
        beta2 = o.float(p + "beta2")
        eps = o.float(p + "eps")
        weightDecay = o.float(p + "weight_decay")
        schedule = Schedule(rawValue: o.string(p + "schedule"))!
        warmupEpochs = o.int(p + "warmup_epochs")
        stepEvery = o.int(p + "step_every")
        stepGamma = o.float(p + "step_gamma")
        clipNorm = o.float(p + "clip_norm")
    }

    public func makeOptimizer(_ params: [Tensor]) -> Optimizer {
        let lr = Float(learningRate), wd = Float(weightDecay)
        switch kind {
        case .sgd: return SGD(params, learningRate: lr, weightDecay: wd)
        case .momentum: return SGD(params, learningRate: lr, momentum: Float(momentum), weightDecay: wd)
        case .nesterov: return SGD(params, learningRate: lr, momentum: Float(momentum), nesterov: true, weightDecay: wd)
        case .adam:
            return Adam(
                params, learningRate: lr, beta1: Float(beta1), beta2: Float(beta2), eps: Float(eps), weightDecay: wd)
        case .adamw:
            return AdamW(
                params, learningRate: lr, beta1: Float(beta1), beta2: Float(beta2), eps: Float(eps), weightDecay: wd)
        }
    }

    /// The rate for epoch `epoch` (0-based) of `total`: linear warm-up, then the schedule over the rest.
    public func learningRate(epoch: Int, of total: Int) -> Float {
        let base = Float(learningRate)
        if epoch < warmupEpochs { return base * Float(epoch + 1) / Float(warmupEpochs) }
        let e = epoch - warmupEpochs, rest = max(total - warmupEpochs, 1)
        switch schedule {
        case .constant: return LRSchedule.constant.rate(base: base, at: e)
        case .cosine: return LRSchedule.cosine(total: rest, minimum: base * 0.01).rate(base: base, at: e)
        case .step: return LRSchedule.step(every: stepEvery, gamma: Float(stepGamma)).rate(base: base, at: e)
        }
    }

    /// The settings as report rows.
    public var summary: [(String, String)] {
        var rows = [
            ("optimizer", kind.rawValue), ("learning rate", "\(learningRate)"), ("schedule", schedule.rawValue),
        ]
        if warmupEpochs > 0 { rows.append(("warm-up epochs", "\(warmupEpochs)")) }
        if kind == .momentum || kind == .nesterov { rows.append(("momentum", "\(momentum)")) }
        if kind == .adam || kind == .adamw { rows.append(("betas", "\(beta1), \(beta2)")) }
        if weightDecay > 0 { rows.append(("weight decay", "\(weightDecay)")) }
        if clipNorm > 0 { rows.append(("gradient clipping", "\(clipNorm)")) }
        return rows
    }
}

/// Parameters updated together by one optimizer (a classifier has one group; a GAN two).
public final class ParameterGroup {
    public let name: String
    public let parameters: [Tensor]
    public let settings: OptimizerSettings
    public let optimizer: Optimizer

    public init(_ name: String, parameters: [Tensor], settings: OptimizerSettings) {
        self.name = name
        self.parameters = parameters
        self.settings = settings
        optimizer = settings.makeOptimizer(parameters)
    }

    /// Sets the learning rate for an epoch.
    public func startEpoch(_ epoch: Int, of total: Int) {
        optimizer.learningRate = settings.learningRate(epoch: epoch, of: total)
    }

    /// Clears the gradients before a step's backward pass.
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// Clips (if asked) and applies the gradients.
    public func step() {
        if settings.clipNorm > 0 { clipGradNorm(parameters, maxNorm: Float(settings.clipNorm)) }
        optimizer.step()
    }
}
