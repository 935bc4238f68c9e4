// Stages stream items: a source emits them in start(), each stage transforms or consumes them in
// process(), and finish() flushes (training happens there, outputs are written there).
import Foundation
import Media
import Tensor

/// Which part of the data an item belongs to: trained on, held out to test, held out to choose settings
/// on (read, reported, never trained on), or unlabelled input to predict.
public enum Split: String { case train, test, validation, predict }

/// A top-k prediction for one input.
public struct Prediction {
    public let label: String
    public let confidence: Float
    /// Classes with their probabilities, most likely first (top-k).
    public let top: [(label: String, probability: Float)]
    /// Raw model outputs, in class order (for checking against other frameworks).
    public let logits: [Float]
    public init(label: String, confidence: Float, top: [(label: String, probability: Float)], logits: [Float] = []) {
        self.label = label
        self.confidence = confidence
        self.top = top
        self.logits = logits
    }
}

/// Names a payload that a plugin attaches to items, with its type; plugins declare their own
/// without editing Pipeline:
///
///     extension PayloadKey where Value == [Int32] { static let tokens = PayloadKey("tokens") }
///     item[.tokens] = ids
public struct PayloadKey<Value>: Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// One unit of data flowing through a pipeline. The common media have their own fields; anything
/// else travels in `payloads` under a `PayloadKey`.
public struct Item {
    public var file: String
    public var split: Split
    public var label: String?
    public var image: Image?
    public var audio: [Float]?
    public var sampleRate: Int?
    /// A feature sequence [T, F]: one row of F features per frame (e.g. 13 MFCCs × T frames).
    public var features: Tensor?
    /// A text document (UTF-8, already decoded).
    public var text: String?
    public var prediction: Prediction?
    public var payloads: [String: Any] = [:]
    public init(file: String, split: Split, label: String? = nil, image: Image? = nil) {
        self.file = file
        self.split = split
        self.label = label
        self.image = image
    }

    public subscript<V>(_ key: PayloadKey<V>) -> V? {
        get { payloads[key.name] as? V }
        set { payloads[key.name] = newValue }
    }
}

public typealias Emit = (Item) throws -> Void

public protocol Stage: AnyObject {
    /// Source stages emit their items here (others do nothing).
    func start(_ ctx: RunContext, emit: Emit) throws
    /// Handles one item from the previous stage.
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws
    /// Called once after the last item.
    func finish(_ ctx: RunContext, emit: Emit) throws
}

extension Stage {
    public func start(_ ctx: RunContext, emit: Emit) throws {}
    public func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws { try emit(item) }
    public func finish(_ ctx: RunContext, emit: Emit) throws {}
}

/// A reading stage that `dlpipe serve` hands files to (the inputs it claimed from the spool).
public protocol FileSource: Stage {
    /// Reads `files` as unlabelled inputs to predict and emits their items in order; a bad file is
    /// reported with `ctx.fail` and skipped.
    func read(_ files: [String], _ ctx: RunContext, emit: Emit) throws
}

/// A stage that draws images on request (a generator), served over HTTP: each call draws anew from its seed.
public protocol ImageSampler: Stage {
    /// The classes a caller may ask for (empty: the sampler takes no class).
    var sampleClasses: [String] { get }
    /// A PNG of the samples drawn with `seed` (of class `className`, when given).
    func samplePNG(seed: Int, className: String?) throws -> [UInt8]
}

/// A run was interrupted (SIGINT/SIGTERM) or stopped at the first bad input (`on_error: stop`).
public struct RunStopped: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// A failure that ends the run (bad option combination found late, unwritable output, …).
public struct StageError: Error, CustomStringConvertible {
    public let stage: String, message: String
    public init(_ stage: String, _ message: String) {
        self.stage = stage
        self.message = message
    }
    public var description: String { "\(stage): \(message)" }
}

/// Shared state of one run: progress output, failure bookkeeping, cancellation.
public final class RunContext: @unchecked Sendable {
    public let progress: ProgressReporter
    public let stopOnError: Bool
    /// `dlpipe run --resume`: training stages continue from their last checkpoint.
    public let resume: Bool
    /// `dlpipe run --shard K/N`: readers keep only this shard's inputs.
    public let shard: Shard?
    public private(set) var failures: [(file: String, reason: String)] = []
    public private(set) var succeeded = 0
    private let lock = NSLock()

    public init(progress: ProgressReporter, stopOnError: Bool, resume: Bool = false, shard: Shard? = nil) {
        self.progress = progress
        self.stopOnError = stopOnError
        self.resume = resume
        self.shard = shard
    }

    /// True once SIGINT/SIGTERM arrived; long loops check it and throw RunStopped.
    public var isCancelled: Bool { Interruption.requested }

    public func checkCancelled() throws {
        if Interruption.requested { throw RunStopped(reason: "interrupted") }
    }

    /// Records a bad input: printed as "file: reason"; stops the run under `on_error: stop`.
    public func fail(_ file: String, _ reason: String) throws {
        lock.lock()
        failures.append((file, reason))
        lock.unlock()
        progress.error("\(file): \(reason)")
        if stopOnError { throw RunStopped(reason: "stopped at the first bad input (on_error: stop)") }
    }

    public func fail(_ e: MediaError) throws { try fail(e.file, e.reason) }

    /// Counts an input handled successfully (for the "N ok, M failed" summary). Each input counts once,
    /// however many stages report it (write.png and a later classifier both do).
    public func countSuccess(_ file: String) {
        lock.lock()
        if succeededFiles.insert(file).inserted { succeeded += 1 }
        lock.unlock()
    }
    private var succeededFiles = Set<String>()
}
