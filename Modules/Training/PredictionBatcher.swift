// Items waiting for one forward pass: a classify stage hands each fitting item over as it arrives, and the
// batch runs when it is full and at the end of the input, each item then going on with its prediction.
import Pipeline

public final class PredictionBatcher {
    let batchSize: Int
    /// The predictions for a batch of items, in their order.
    let predict: ([Item]) throws -> [Prediction]
    /// What to drop from an item once it is predicted (a large payload later stages do not need).
    let release: (inout Item) -> Void
    var pending: [Item] = []

    public init(
        batchSize: Int, predict: @escaping ([Item]) throws -> [Prediction],
        release: @escaping (inout Item) -> Void = { _ in }
    ) {
        self.batchSize = batchSize
        self.predict = predict
        self.release = release
        pending.reserveCapacity(batchSize)
    }

    /// Adds `item`; runs the batch when it is full.
    public func add(_ item: Item, _ ctx: RunContext, _ emit: Emit) throws {
        pending.append(item)
        if pending.count >= batchSize { try flush(ctx, emit) }
    }

    /// Runs what is waiting.
    public func flush(_ ctx: RunContext, _ emit: Emit) throws {
        guard !pending.isEmpty else { return }
        for (var item, p) in zip(pending, try predict(pending)) {
            item.prediction = p
            release(&item)
            ctx.countSuccess(item.file)
            try emit(item)
        }
        pending.removeAll(keepingCapacity: true)
    }
}
