// What several test targets share: the predictions CSV's class probabilities, and a DCGAN small enough to train
// in a second on the fixture digits.
import Foundation

/// Each row's class probabilities from a write.csv of predictions (file, label, p, label2, p2, …), by file.
public func predictedProbabilities(csv path: String) throws -> [String: [String: Double]] {
    var out: [String: [String: Double]] = [:]
    for row in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst() {
        let f = row.split(separator: ",").map(String.init)
        out[f[0]] = Dictionary(
            uniqueKeysWithValues: stride(from: 1, to: f.count, by: 2).map { (f[$0], Double(f[$0 + 1])!) })
    }
    return out
}

/// gan.train's `generator` and `discriminator` options for 28×28 digits: two transposed convs against one conv.
public let tinyDCGANLayers = """
          generator:
            - dense: {units: 392, bias: false}
            - batchnorm:
            - activation: {kind: leaky_relu, slope: 0.2}
            - reshape: [8, 7, 7]
            - conv_transpose: {filters: 4, size: 4, stride: 2, padding: 1, bias: false}
            - batchnorm:
            - activation: {kind: leaky_relu, slope: 0.2}
            - conv_transpose: {filters: 1, size: 4, stride: 2, padding: 1, bias: false, activation: tanh}
          discriminator:
            - conv: {filters: 4, size: 4, stride: 2, padding: 1, activation: leaky_relu, slope: 0.2}
            - flatten:
            - dense: 1
    """
