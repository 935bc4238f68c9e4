// A convolution over the time axis of feature sequences [N, T, Cin] → [N, T', Cout], with PyTorch's
// nn.Conv1d weights (weight [Cout, Cin, K], bias [Cout]) and initialisation, so a model file loads into a
// module that transposes to [N, C, T], applies nn.Conv1d and transposes back. A network zeroes the frames
// beyond each sequence's new length after the activation, so a padded batch gives each sequence the
// output it has alone.
import Tensor

public final class Conv1D: Layer {
    public let weight: Tensor, bias: Tensor?
    public let kernelSize: Int, stride: Int, padding: Int

    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        initializer: Initializer = .pytorchDefault, seed: UInt64 = 0
    ) {
        var rng = SeededRandom(seed: seed)
        let fanIn = inChannels * kernelSize, fanOut = outChannels * kernelSize
        weight = parameter(
            initializer.make([outChannels, inChannels, kernelSize], fanIn: fanIn, fanOut: fanOut, rng: &rng))
        self.bias =
            bias
            ? parameter(Initializer.pytorchDefault.make([outChannels], fanIn: fanIn, fanOut: fanOut, rng: &rng)) : nil
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// Each sequence's length after the layer.
    public func outputLengths(_ lengths: [Int]) -> [Int] {
        lengths.map { Tensor.timeConvLength($0, kernel: kernelSize, stride: stride, padding: padding) }
    }

    /// The convolution, before any activation.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(
            x.rank == 3 && x.shape[2] == weight.shape[1], "Conv1D: input \(x.shape) is not [N, T, \(weight.shape[1])]")
        let n = x.shape[0], cout = weight.shape[0]
        let patches = x.timePatches(kernel: kernelSize, stride: stride, padding: padding)
        return patches.linear(weight.reshaped([cout, -1]), bias: bias).reshaped([n, -1, cout])
    }
}
