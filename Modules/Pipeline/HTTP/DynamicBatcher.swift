// Dynamic batching (Triton's terms): requests for one pipeline that arrive close together run as one
// batch through it — one forward pass on all cores. A batch starts when `maxBatch` inputs wait, when the
// oldest has waited `maxDelay` seconds, or at once when no other request is on its way (announced by
// `expect()` as its body is being prepared): a lone client never waits for company that is not coming.
// One thread per pipeline runs the batches, so the pipeline's stages (not thread-safe, and holding the
// model once) are only ever used by it.
import Foundation

public final class DynamicBatcher: @unchecked Sendable {
    /// One waiting input: its file, and the outcome once its batch has run.
    final class Pending {
        let path: String
        var outcome: ServedOutcome?
        let done = DispatchSemaphore(value: 0)
        init(path: String) { self.path = path }
    }

    let maxBatch: Int
    let maxDelay: Double
    let condition = NSCondition()
    var queue: [Pending] = []
    /// Requests announced by `expect()` and not yet queued.
    var arriving = 0
    var pipeline: ServedPipeline
    var stopped = false
    /// Called with each batch's size and the seconds it took, for the metrics.
    let onBatch: @Sendable (Int, Double) -> Void

    public init(
        pipeline: ServedPipeline, maxBatch: Int, maxDelay: Double, onBatch: @escaping @Sendable (Int, Double) -> Void
    ) {
        self.pipeline = pipeline
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.onBatch = onBatch
        let thread = Thread { [self] in loop() }
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Inputs waiting for their batch.
    public var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Announces a request whose input is being prepared; each is followed by `run` or `cancel`.
    public func expect() {
        condition.lock()
        arriving += 1
        condition.unlock()
    }

    /// An announced request that will not come (its input was refused).
    public func cancel() {
        condition.lock()
        arriving -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs the file at `path` (announced by `expect()`) in the next batch and returns its outcome.
    public func run(_ path: String) -> ServedOutcome {
        let p = Pending(path: path)
        condition.lock()
        arriving -= 1
        if stopped {
            condition.unlock()
            return .failed(reason: "the service is stopping")
        }
        queue.append(p)
        condition.signal()
        condition.unlock()
        p.done.wait()
        return p.outcome ?? .failed(reason: "no outcome")
    }

    /// Runs the files at `paths` (a spool's claimed inputs) in the next batches, beside the requests, and
    /// returns their outcomes by path.
    public func runAll(_ paths: [String]) -> [String: ServedOutcome] {
        let pending = paths.map(Pending.init)
        condition.lock()
        if stopped {
            condition.unlock()
            return Dictionary(uniqueKeysWithValues: paths.map { ($0, .failed(reason: "the service is stopping")) })
        }
        queue += pending
        condition.signal()
        condition.unlock()
        var out: [String: ServedOutcome] = [:]
        for p in pending {
            p.done.wait()
            out[p.path] = p.outcome ?? .failed(reason: "no outcome")
        }
        return out
    }

    /// Swaps in a new pipeline between batches (SIGHUP).
    public func replace(_ new: ServedPipeline) {
        condition.lock()
        pipeline = new
        condition.unlock()
    }

    /// Lets the batches waiting run, then stops the thread.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                condition.unlock()
                return
            }
            // The oldest input has arrived: wait for the requests on their way until the batch is full or its
            // delay is up.
            let deadline = Date().addingTimeInterval(maxDelay)
            while queue.count < maxBatch && arriving > 0 && !stopped && Date() < deadline {
                _ = condition.wait(until: deadline)
            }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            let pipeline = self.pipeline
            condition.unlock()
            let started = Date()
            let outcomes: [String: ServedOutcome]
            do {
                outcomes = try pipeline.run(batch.map(\.path), progress: ProgressReporter(quiet: true))
            } catch {
                outcomes = Dictionary(uniqueKeysWithValues: batch.map { ($0.path, .failed(reason: "\(error)")) })
            }
            onBatch(batch.count, Date().timeIntervalSince(started))
            for p in batch {
                p.outcome = outcomes[p.path]
                p.done.signal()
            }
        }
    }
}
