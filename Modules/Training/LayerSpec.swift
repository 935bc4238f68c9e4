// The network as a typed layer list, the one description every plugin builds its models from. In a
// config it reads Darknet-style:
//
//     layers:
//       - conv: {filters: 32, size: 3}
//       - maxpool: 2
//       - dense: {units: 64, activation: leaky_relu, slope: 0.2}
//       - dropout: 0.2
//
// The same list, as JSON, is the architecture inside a model file (ModelFile.swift), and it is read
// back through the same parser (LayerListParser.swift), so a file gets exactly the checks a config gets.
import NN

/// A parameter-free nonlinearity with its parameter (LeakyReLU's negative slope).
public struct ActivationSpec: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable { case none, relu, leakyReLU = "leaky_relu", sigmoid, tanh }
    public var kind: Kind
    /// Negative slope for leaky_relu (PyTorch's default 0.01); unused by the others.
    public var slope: Double
    public init(_ kind: Kind, slope: Double = ActivationSpec.defaultSlope) {
        self.kind = kind
        self.slope = slope
    }

    public static let defaultSlope = 0.01
    public static let relu = ActivationSpec(.relu), none = ActivationSpec(.none)
}

/// Settings shared by conv and transposed conv.
public struct ConvSpec: Equatable, Sendable {
    public var filters: Int, size: Int, stride: Int, padding: Int
    /// Transposed conv only: extra rows/columns on one side of the output (PyTorch's output_padding).
    public var outputPadding: Int
    public var activation: ActivationSpec
    public var bias: Bool
    public init(
        filters: Int, size: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
        activation: ActivationSpec = .relu, bias: Bool = true
    ) {
        self.filters = filters
        self.size = size
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.activation = activation
        self.bias = bias
    }
}

/// Settings of an lstm or gru layer.
public struct RecurrentSpec: Equatable, Sendable {
    public var kind: Recurrent.Kind, hidden: Int, layers: Int, sequence: Bool, bidirectional: Bool
    public init(
        _ kind: Recurrent.Kind, hidden: Int, layers: Int = 1, sequence: Bool = false, bidirectional: Bool = false
    ) {
        self.kind = kind
        self.hidden = hidden
        self.layers = layers
        self.sequence = sequence
        self.bidirectional = bidirectional
    }
    /// Values per step out of the layer: the hidden size, twice over when bidirectional.
    public var outputSize: Int { bidirectional ? 2 * hidden : hidden }
}

public enum LayerSpec: Equatable, Sendable {
    case conv(ConvSpec)
    case convTranspose(ConvSpec)
    /// A convolution over the time axis of a sequence [T, C] → [T', filters] (nn.Conv1d on [C, T]).
    case conv1d(ConvSpec)
    case maxpool(size: Int)
    case avgpool(size: Int)
    case dense(units: Int, activation: ActivationSpec, bias: Bool)
    case dropout(rate: Double)
    /// BatchNorm1d after dense/flat layers, BatchNorm2d after conv layers (chosen by the input shape).
    case batchnorm
    case activation(ActivationSpec)
    case flatten
    /// A sequence [T, F] → [F]: the mean over each sequence's own frames.
    case meanOverTime
    /// Reshapes each example (the batch axis is kept), e.g. [256, 7, 7] after a dense layer.
    case reshape([Int])
    /// Token ids [T] → vectors [T, size].
    case embedding(vocabulary: Int, size: Int)
    /// Stacked LSTM or GRU over a sequence [T, F]: its final state [hidden], or the sequence [T, hidden].
    case recurrent(RecurrentSpec)

    /// The seed CNN: Conv(32,3×3,ReLU) → MaxPool 2 → Conv(64,3×3,ReLU) → MaxPool 2 → Dense(64,ReLU).
    public static let seedCNN: [LayerSpec] = [
        .conv(ConvSpec(filters: 32, size: 3)), .maxpool(size: 2),
        .conv(ConvSpec(filters: 64, size: 3)), .maxpool(size: 2),
        .dense(units: 64, activation: .relu, bias: true),
    ]

    /// A classifier's output layer: one logit per class.
    public static func classifierHead(classes: Int) -> LayerSpec {
        .dense(units: classes, activation: .none, bias: true)
    }
}

/// The accepted range of every layer setting: the config parser and the model-file loader both check
/// against these, so a hand-made model file cannot hold what a config could not.
public enum LayerLimits {
    public static let filters = 1...4096
    public static let kernelSize = 1...15
    public static let stride = 1...8
    public static let padding = 0...15
    public static let units = 1...65536
    public static let poolSize = 1...16
    public static let slope = 0.0...10.0
    public static let reshapeDimension = 1...65536
    public static let vocabulary = 1...1_000_000
    public static let embeddingSize = 1...4096
    public static let hidden = 1...4096
    public static let recurrentLayers = 1...8
    /// Dimensions of an input example, and their product.
    public static let inputDimension = 1...65536
    public static let inputElements = 1...(1 << 26)
}
