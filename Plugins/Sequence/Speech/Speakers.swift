// Who is speaking in a clip, read from its file name with a regular expression (capture group 1): the
// unit a speech model must generalise over. Validation is cut by speaker and held-out accuracy is
// reported per speaker, because a speaker's other takes make a random split of clips easy and misleading.
import Foundation
import Pipeline
import Tensor
import Training
import FilesAndText

struct SpeakerPattern {
    let regex: NSRegularExpression
    static let defaultPattern = "^[^_]+_([^_]+)_"

    init(_ pattern: String, stage: String) throws {
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw StageError(stage, "speaker_pattern '\(pattern)' is not a valid regular expression")
        }
        guard regex.numberOfCaptureGroups >= 1 else {
            throw StageError(stage, "speaker_pattern '\(pattern)' needs a capture group: (…)")
        }
    }

    /// The speaker of `file` (its name, without an augmented copy's "#augN"), or "(unknown)" when the
    /// pattern does not match.
    func speaker(of file: String) -> String {
        var name = URL(fileURLWithPath: file).lastPathComponent
        if let hash = name.range(of: "#aug", options: .backwards) { name = String(name[..<hash.lowerBound]) }
        let range = NSRange(name.startIndex..., in: name)
        guard let m = regex.firstMatch(in: name, range: range), let r = Range(m.range(at: 1), in: name), !r.isEmpty
        else { return "(unknown)" }
        return String(name[r])
    }
}

/// Accuracy of each speaker's clips.
struct SpeakerAccuracy {
    struct Row {
        let speaker: String
        let correct: Int
        let total: Int
        var accuracy: Double { Double(correct) / Double(max(total, 1)) }
    }
    let rows: [Row]

    init(speakers: [String], truth: [Int], predicted: [Int]) {
        var correct: [String: Int] = [:], total: [String: Int] = [:]
        for (s, (t, p)) in zip(speakers, zip(truth, predicted)) {
            total[s, default: 0] += 1
            if t == p { correct[s, default: 0] += 1 }
        }
        rows = total.keys.sorted().map { Row(speaker: $0, correct: correct[$0] ?? 0, total: total[$0]!) }
    }

    /// metrics.json: {"speaker": {"accuracy": …, "count": …}, …}
    var json: String {
        "{"
            + rows.map {
                "\(jsonQuoted($0.speaker)):{\"accuracy\":\(jsonNumber($0.accuracy, format: "%.6g")),\"count\":\($0.total)}"
            }.joined(separator: ",") + "}"
    }

    var table: ReportSection {
        .table(
            title: "Held-out accuracy per speaker", header: ["speaker", "clips", "accuracy"],
            rows: rows.map { [$0.speaker, "\($0.total)", String(format: "%.2f %%", 100 * $0.accuracy)] })
    }
}
