// How a trained network is run on data it does not learn from: without recording gradients, one core
// for a single example, and large batches in cache-sized slices. The network itself only knows its
// forward pass; this is the policy around it.
import Tensor
import NN

public enum Inference {
    /// Examples per slice when a large batch is run: a slice's activations stay in the caches from
    /// layer to layer (256 digits at once sent every layer's output out to DRAM and back; slices of 32
    /// measured 1.1× faster). Training never slices: batch norm needs the whole batch.
    public static let slice = 32

    /// Outputs for `x` ([N] + the network's input shape) in evaluation mode.
    ///
    ///     net.eval(); let logits = Inference.run(net, x)
    public static func run(_ net: Network, _ x: Tensor) -> Tensor {
        Autograd.noGrad {
            let n = x.shape[0]
            if n == 1 {
                // One image is ~60 µs of work on one core. Split over two, it measured 73–78 µs on a VM
                // whose vCPUs shared data cheaply and 166–177 µs when they did not (one VM, minutes apart).
                return Parallel.serially { net(x) }
            }
            guard n > slice else { return net(x) }
            let width = net.outputShape.reduce(1, *)
            let out = Tensor(uninitialized: [n] + net.outputShape)
            for i0 in stride(from: 0, to: n, by: slice) {
                let part = net(x.slice(i0..<Swift.min(n, i0 + slice)))
                (out.data + i0 * width).update(from: part.data, count: part.count)
            }
            return out
        }
    }

    /// Outputs for `x` in evaluation mode, 256 examples at a time; the network's mode is restored.
    public static func evaluate(_ net: Network, _ x: Tensor, training wasTraining: Bool = true) -> Tensor {
        net.eval()
        defer { if wasTraining { net.train() } }
        let n = x.shape[0], width = net.outputShape.reduce(1, *)
        let out = Tensor(uninitialized: [n] + net.outputShape)
        for s in stride(from: 0, to: n, by: 256) {
            let part = run(net, x.slice(s..<Swift.min(n, s + 256)))
            (out.data + s * width).update(from: part.data, count: part.count)
        }
        return out
    }

    /// Class indices (argmax of the outputs) for `x`, in evaluation mode; the network's mode is restored.
    public static func classify(_ net: Network, _ x: Tensor, training wasTraining: Bool = true) -> [Int] {
        evaluate(net, x, training: wasTraining).argmaxRows()
    }
}
