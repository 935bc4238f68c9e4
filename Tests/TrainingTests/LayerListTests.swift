// The layer list: config parsing with located errors, JSON round trip, and the network it builds.
import XCTest
import Tensor
import NN
import Pipeline
@testable import Training
import FilesAndText

func configTree(_ yaml: String) throws -> ConfigNode {
    try ConfigParser.parse(Data(yaml.utf8), file: "t.conf", environment: [:])
}

final class LayerListTests: XCTestCase {
    func testEveryKindParsesAndRoundTripsThroughJSON() throws {
        let root = try configTree(
            """
            layers:
              - dense: {units: 392, activation: leaky_relu, slope: 0.2, bias: false}
              - batchnorm:
              - reshape: [8, 7, 7]
              - conv_transpose: {filters: 4, size: 5, stride: 2, padding: 2, output_padding: 1, activation: tanh}
              - conv: {filters: 6, size: 3, padding: 1}
              - maxpool: 2
              - avgpool: {size: 2}
              - flatten:
              - dropout: 0.3
              - activation: {kind: leaky_relu, slope: 0.3}
              - activation: sigmoid
            """)
        let layers = try LayerListParser.parse(root["layers"]!)
        XCTAssertEqual(layers.count, 11)
        XCTAssertEqual(layers[0], .dense(units: 392, activation: ActivationSpec(.leakyReLU, slope: 0.2), bias: false))
        XCTAssertEqual(
            layers[3],
            .convTranspose(
                ConvSpec(
                    filters: 4, size: 5, stride: 2, padding: 2, outputPadding: 1, activation: ActivationSpec(.tanh))))
        let back = try LayerListParser.parse(
            JSONValue.parse(LayerSpec.json(layers))!.configNode(at: SourcePosition(file: "j", line: 0, column: 0)))
        XCTAssertEqual(back, layers)
        let net = try Network(layers: layers, inputShape: [16], seed: 1)
        XCTAssertEqual(net.outputShape, [6 * 3 * 3])
        XCTAssertEqual(
            net.namedParameters().map { $0.0 },
            ["fc1.weight", "bn1.weight", "bn1.bias", "convt1.weight", "convt1.bias", "conv1.weight", "conv1.bias"])
        XCTAssertEqual(net(Tensor.uniform([2, 16], seed: 3)).shape, [2, 54])
    }

    func testBidirectionalRecurrentLayerRoundTripsAndDoublesItsWidth() throws {
        let root = try configTree(
            """
            layers:
              - lstm: {hidden: 5, layers: 2, sequence: true, bidirectional: true}
              - mean_over_time:
            """)
        let layers = try LayerListParser.parse(root["layers"]!)
        XCTAssertEqual(
            layers[0], .recurrent(RecurrentSpec(.lstm, hidden: 5, layers: 2, sequence: true, bidirectional: true)))
        let back = try LayerListParser.parse(
            JSONValue.parse(LayerSpec.json(layers))!.configNode(at: SourcePosition(file: "j", line: 0, column: 0)))
        XCTAssertEqual(back, layers)
        XCTAssertFalse(
            LayerSpec.json([.recurrent(RecurrentSpec(.gru, hidden: 5))]).contains("bidirectional"),
            "forward models' files unchanged")
        let net = try Network(layers: layers, inputShape: [7, 3], seed: 1)
        XCTAssertEqual(net.outputShape, [10])
        // Layer 1 reads both directions of layer 0: [4·5, 2·5] input weights; the plan counts what is built.
        let named = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.shape) })
        XCTAssertEqual(named["lstm.weight_ih_l1_reverse"], [20, 10])
        XCTAssertEqual(named.count, 16)
        XCTAssertEqual(
            try layers[0].plan(input: [7, 3]).parameters, net.namedParameters().map { $0.1.count }.reduce(0, +))
    }

    /// A CRNN: conv1d over time → lstm → mean over time. Round trip, nn.Conv1d names and shapes, the plan,
    /// and a padded batch giving each sequence what it gives alone.
    func testConv1DFrontEndRoundTripsAndIgnoresPadding() throws {
        let root = try configTree(
            """
            layers:
              - conv1d: {filters: 6, size: 5, stride: 2, padding: 2}
              - conv1d: {filters: 4, size: 3, padding: 1, activation: tanh}
              - lstm: {hidden: 5, sequence: true}
              - mean_over_time:
              - dense: {units: 3, activation: none}
            """)
        let layers = try LayerListParser.parse(root["layers"]!)
        XCTAssertEqual(layers[0], .conv1d(ConvSpec(filters: 6, size: 5, stride: 2, padding: 2)))
        let back = try LayerListParser.parse(
            JSONValue.parse(LayerSpec.json(layers))!.configNode(at: SourcePosition(file: "j", line: 0, column: 0)))
        XCTAssertEqual(back, layers)
        let net = try Network(layers: layers, inputShape: [11, 3], seed: 4)
        let named = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.shape) })
        XCTAssertEqual(named["conv1d_1.weight"], [6, 3, 5])
        XCTAssertEqual(named["conv1d_2.bias"], [4])
        XCTAssertEqual(try layers[0].plan(input: [11, 3]).output, [6, 6])
        XCTAssertEqual(
            try MemoryEstimate.of(layers, input: [11, 3]).parameters,
            net.namedParameters().map { $0.1.count }.reduce(0, +))
        net.eval()
        // Sequences of 11, 4 and 1 frames, padded with zeros into one batch, against each one alone.
        let lengths = [11, 4, 1]
        let padded = Tensor.zeros([3, 11, 3])
        var alone: [Tensor] = []
        for (b, n) in lengths.enumerated() {
            let x = Tensor.uniform([1, n, 3], low: -1, high: 1, seed: UInt64(10 + b))
            for i in 0..<(n * 3) { padded.data[b * 33 + i] = x.data[i] }
            alone.append(Autograd.noGrad { net(x, lengths: [n]) })
        }
        let batch = Autograd.noGrad { net(padded, lengths: lengths) }
        for b in 0..<3 {
            for c in 0..<3 { XCTAssertEqual(batch.data[b * 3 + c], alone[b].data[c], accuracy: 1e-5, "sequence \(b)") }
        }
        XCTAssertThrowsError(try Network(layers: layers, inputShape: [3, 11, 3], seed: 1)) {
            XCTAssertTrue("\($0)".contains("conv1d needs a sequence [T, C]"), "\($0)")
        }
    }

    func testErrorsNameThePositionAndTheProblem() throws {
        func error(_ yaml: String) throws -> String {
            do {
                _ = try LayerListParser.parse(try configTree(yaml)["layers"]!)
                return "no error"
            } catch let e as ConfigError { return e.description }
        }
        XCTAssertEqual(try error("layers:\n  - maxpool: 0\n"), "t.conf:2:14: maxpool.size = 0 is out of range 1…16")
        XCTAssertEqual(try error("layers:\n  - conv: {filters: 8, size: 3, stride: 0}\n").hasPrefix("t.conf:2:"), true)
        XCTAssertTrue(
            try error("layers:\n  - dense: {units: 8, slope: 0.2}\n").contains("needs activation: leaky_relu"))
        XCTAssertTrue(try error("layers:\n  - convv: {filters: 8}\n").contains("did you mean 'conv'"))
        XCTAssertTrue(try error("layers:\n  - activation: relux\n").contains("did you mean 'relu'"))
    }
}
