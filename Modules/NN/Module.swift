// Module: anything with named parameters (PyTorch state_dict names, e.g. "conv1.weight"), buffers
// (BatchNorm running stats) and child modules. Layer adds a forward pass. Models are classes of named
// layers with one callAsFunction, like swift-models' LeNet:
//
//     final class Net: Layer {
//         let fc1 = Dense(784, 64), fc2 = Dense(64, 10)
//         var children: [(String, Module)] { [("fc1", fc1), ("fc2", fc2)] }
//         func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }
//     }
import Tensor

public protocol Module: AnyObject {
    /// Direct sub-modules with their names.
    var children: [(String, Module)] { get }
    /// This module's own trainable tensors (not its children's).
    var ownParameters: [(String, Tensor)] { get }
    /// This module's own non-trainable state saved in checkpoints.
    var ownBuffers: [(String, Tensor)] { get }
    /// Switches this module (not its children) between training and evaluation behaviour.
    func setOwnTraining(_ training: Bool)
}

public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension Module {
    public var children: [(String, Module)] { [] }
    public var ownParameters: [(String, Tensor)] { [] }
    public var ownBuffers: [(String, Tensor)] { [] }
    public func setOwnTraining(_ training: Bool) {}

    /// All trainable tensors, depth first, named like PyTorch's `named_parameters()`.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        ownParameters.map { (prefix + $0.0, $0.1) }
            + children.flatMap { $0.1.namedParameters(prefix: prefix + $0.0 + ".") }
    }

    /// Parameters and buffers: what a checkpoint holds (PyTorch's `state_dict()` names).
    public func stateDict(prefix: String = "") -> [(String, Tensor)] {
        ownParameters.map { (prefix + $0.0, $0.1) } + ownBuffers.map { (prefix + $0.0, $0.1) }
            + children.flatMap { $0.1.stateDict(prefix: prefix + $0.0 + ".") }
    }

    public var parameters: [Tensor] { namedParameters().map { $0.1 } }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Training mode (batch statistics, dropout on) for this module and all children.
    public func train() { setTraining(true) }
    /// Evaluation mode (running statistics, dropout off).
    public func eval() { setTraining(false) }
    public func setTraining(_ on: Bool) {
        setOwnTraining(on)
        for (_, c) in children { c.setTraining(on) }
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}
