// Accuracy, per-class accuracy and the confusion matrix of a classifier on held-out examples.
import Tensor
import FilesAndText

/// Rows of the confusion matrix are true classes, columns predicted ones.
public struct ClassifierEvaluation: Equatable {
    public let classes: [String]
    public let confusion: [[Int]]
    public init(classes: [String], truth: [Int], predicted: [Int]) {
        self.classes = classes
        var m = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
        for (t, p) in zip(truth, predicted) { m[t][p] += 1 }
        confusion = m
    }
    public var total: Int { confusion.joined().reduce(0, +) }
    public var accuracy: Double {
        total == 0 ? 0 : Double((0..<classes.count).map { confusion[$0][$0] }.reduce(0, +)) / Double(total)
    }
    public var perClass: [Double] {
        confusion.enumerated().map { i, row in
            let n = row.reduce(0, +)
            return n == 0 ? 0 : Double(row[i]) / Double(n)
        }
    }

    /// metrics.json fields: `<prefix>_accuracy`, `<prefix>_count`, classes, per-class accuracy, confusion matrix.
    public func metricsFields(prefix: String) -> [(String, String)] {
        let per = zip(classes, perClass).map { "\(jsonQuoted($0)):\(jsonNumber($1, format: "%.6g"))" }.joined(
            separator: ",")
        let cm = confusion.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",\n    ")
        return [
            ("\(prefix)_accuracy", jsonNumber(accuracy, format: "%.6g")), ("\(prefix)_count", "\(total)"),
            ("classes", "[" + classes.map(jsonQuoted).joined(separator: ",") + "]"),
            ("per_class_accuracy", "{\(per)}"), ("confusion_matrix", "[\n    \(cm)\n  ]"),
        ]
    }
}
