// Reverse-mode autograd. Each op result that needs gradients holds one GradNode: its inputs and a closure
// mapping (output, output gradient) to input gradients. The closure never captures its own output (it is
// passed in), so there are no retain cycles; `backward()` topologically sorts the nodes, accumulates
// gradients centrally, and drops each node once used, so a step's graph is freed when the step ends.
import Foundation

final class GradNode {
    let inputs: [Tensor]
    let backward: (_ out: Tensor, _ gradOut: Tensor) -> [Tensor?]
    init(_ inputs: [Tensor], _ backward: @escaping (Tensor, Tensor) -> [Tensor?]) {
        self.inputs = inputs
        self.backward = backward
    }
}

/// Gradient recording switch (per thread).
///
///     let logits = Autograd.noGrad { model(x) }
public enum Autograd {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// True unless inside `noGrad` on this thread.
    public static var isEnabled: Bool { pthread_getspecific(key) == nil }

    /// Runs `body` without recording any graph (inference).
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, old) }
        return try body()
    }
}

extension Tensor {
    /// Wraps an op's result: records `backward` if any input requires gradients and recording is on.
    @inline(__always)
    func recorded(_ inputs: [Tensor], _ backward: @escaping (Tensor, Tensor) -> [Tensor?]) -> Tensor {
        guard Autograd.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        node = GradNode(inputs, backward)
        return self
    }

    /// Back-propagates from this tensor (a scalar loss unless `seed` is given), accumulating into `.grad`
    /// of every leaf that requires gradients. Gradients of intermediate results are freed afterwards.
    ///
    ///     loss.backward(); optimizer.step()
    public func backward(_ seed: Tensor? = nil) {
        precondition(seed != nil || count == 1, "backward() without a seed needs a scalar, got shape \(shape)")
        // Topological order (iterative DFS: deep nets must not overflow the stack).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded {
                order.append(t)
                continue
            }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            if let n = t.node { for i in n.inputs where i.requiresGrad { stack.append((i, false)) } }
        }
        accumulateGrad(seed ?? Tensor.ones(shape))
        for t in order.reversed() {
            guard let n = t.node, let g = t.grad else { continue }
            let grads = n.backward(t, g)
            for (k, (input, gi)) in zip(n.inputs, grads).enumerated() where input.requiresGrad {
                guard let gi else { continue }
                // A gradient the rule allocated for this input alone can be adopted instead of copied;
                // one that is (a view of) the incoming gradient or shared with another input cannot.
                let exclusive =
                    gi.offset == 0 && gi.count == gi.storage.count && gi.storage !== g.storage
                    && !grads.enumerated().contains { $0.offset != k && $0.element?.storage === gi.storage }
                input.accumulateGrad(gi, adopt: exclusive)
            }
            t.node = nil
            t.grad = nil
        }
    }

    func accumulateGrad(_ g: Tensor, adopt: Bool = false) {
        precondition(g.shape == shape, "gradient shape \(g.shape) for tensor \(shape)")
        if let old = grad {
            addInPlace(old.data, g.data, count)
        } else {
            grad = adopt && g.node == nil ? g : g.copy()
        }
    }

    /// Clears `.grad` (call between optimizer steps).
    public func zeroGrad() { grad = nil }
}

extension Tensor {
    /// Records a scalar-output op whose backward only needs the incoming scalar gradient (fused losses).
    public func recordedLoss(_ inputs: [Tensor], _ backward: @escaping (Float) -> [Tensor?]) -> Tensor {
        recorded(inputs) { _, g in backward(g.item) }
    }
}
