// How a trained network is run on data it does not learn from: without recording gradients, one core
// for a single example, and large batches in cache-sized slices. The network itself only knows its
// forward pass; this is the policy around it.
import Tensor
import NN

public enum Inference {
    /// Examples per slice when a large batch is run: a slice's activations stay in the caches from
    /// layer to layer, where a whole batch of 256 digits sends every layer's output out to DRAM and back
    /// (slices of 32 are about 1.1× faster). Training never slices: batch norm needs the whole batch.
    public static let slice = 32

    /// Outputs for `x` ([N] + the network's input shape) in evaluation mode; padded sequences pass each
    /// one's `lengths`.
    ///
    ///     net.eval(); let logits = Inference.run(net, x)
    public static func run(_ net: Network, _ x: Tensor, lengths: [Int]? = nil) -> Tensor {
        Autograd.noGrad {
            let n = x.shape[0]
            if n == 1 {
                // One image is ~60 µs of work on one core: splitting it over two costs more in handing data
                // between the cores than it saves (73–78 µs where vCPUs share data cheaply, 166–177 µs where not).
                return Parallel.serially { net(x, lengths: lengths) }
            }
            guard n > slice else { return net(x, lengths: lengths) }
            return sliced(n, net) { r in net(x.slice(r), lengths: lengths.map { Array($0[r]) }) }
        }
    }

    /// Outputs for `x` in evaluation mode, 256 examples at a time; the network's mode is restored.
    public static func evaluate(_ net: Network, _ x: Tensor, lengths: [Int]? = nil, training wasTraining: Bool = true)
        -> Tensor
    {
        net.eval()
        defer { if wasTraining { net.train() } }
        return sliced(x.shape[0], net, by: 256) { r in run(net, x.slice(r), lengths: lengths.map { Array($0[r]) }) }
    }

    /// Class indices (argmax of the outputs) for `x`, in evaluation mode; the network's mode is restored.
    public static func classify(_ net: Network, _ x: Tensor, lengths: [Int]? = nil, training wasTraining: Bool = true)
        -> [Int]
    {
        evaluate(net, x, lengths: lengths, training: wasTraining).argmaxRows()
    }

    /// Outputs for sequences of any lengths ([T_i, F] each), in evaluation mode: sorted by length and run
    /// in padded batches of similar lengths, so little work goes into padding; returned in input order.
    public static func evaluate(
        _ net: Network, sequences: [Tensor], batch: Int = 64, training wasTraining: Bool = false
    ) -> Tensor {
        net.eval()
        defer { if wasTraining { net.train() } }
        let order = sequences.indices.sorted { sequences[$0].shape[0] < sequences[$1].shape[0] }
        let width = net.outputShape.reduce(1, *)
        let out = Tensor(uninitialized: [sequences.count] + net.outputShape)
        for s in stride(from: 0, to: order.count, by: batch) {
            let idx = Array(order[s..<Swift.min(order.count, s + batch)])
            let part = run(
                net, SequenceBatches.pad(idx.map { sequences[$0] }), lengths: idx.map { sequences[$0].shape[0] })
            for (j, i) in idx.enumerated() { (out.data + i * width).update(from: part.data + j * width, count: width) }
        }
        return out
    }

    /// Runs `part` on consecutive ranges of `n` examples and joins the outputs.
    static func sliced(_ n: Int, _ net: Network, by size: Int = slice, _ part: (Range<Int>) -> Tensor) -> Tensor {
        let width = net.outputShape.reduce(1, *)
        let out = Tensor(uninitialized: [n] + net.outputShape)
        for i0 in stride(from: 0, to: n, by: size) {
            let p = part(i0..<Swift.min(n, i0 + size))
            (out.data + i0 * width).update(from: p.data, count: p.count)
        }
        return out
    }
}
