// The validation split's voices (read.audio `validation:`): clips never trained on, scored with the final
// model per voice and per group of voices (say women and men, named by `group_pattern` in the voice's
// name), so a setting can be chosen on voices unlike the training speakers without looking at the test
// split.
import Foundation
import Pipeline
import Tensor
import Training
import FilesAndText

struct VoiceGroupPattern {
    let regex: NSRegularExpression?

    init(_ pattern: String, stage: String) throws {
        guard !pattern.isEmpty else {
            regex = nil
            return
        }
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw StageError(stage, "group_pattern '\(pattern)' is not a valid regular expression")
        }
        guard regex!.numberOfCaptureGroups >= 1 else {
            throw StageError(stage, "group_pattern '\(pattern)' needs a capture group: (…)")
        }
    }

    /// The group of a voice (capture group 1 of the pattern in its name), "other" when it does not match;
    /// nil when no pattern is set.
    func group(of voice: String) -> String? {
        guard let regex else { return nil }
        let range = NSRange(voice.startIndex..., in: voice)
        guard let m = regex.firstMatch(in: voice, range: range), let r = Range(m.range(at: 1), in: voice), !r.isEmpty
        else { return "other" }
        return String(voice[r])
    }
}

/// The final model's accuracy on the validation voices: overall, per voice and per group.
struct ValidationVoiceScores {
    let accuracy: Double
    let clips: Int
    let byVoice: SpeakerAccuracy
    let byGroup: SpeakerAccuracy?

    init(voices: [String], truth: [Int], predicted: [Int], groups: VoiceGroupPattern) {
        clips = truth.count
        accuracy = Double(zip(truth, predicted).filter { $0 == $1 }.count) / Double(max(clips, 1))
        byVoice = SpeakerAccuracy(speakers: voices, truth: truth, predicted: predicted)
        let named = voices.compactMap { groups.group(of: $0) }
        byGroup =
            named.count == voices.count && !named.isEmpty
            ? SpeakerAccuracy(speakers: named, truth: truth, predicted: predicted) : nil
    }

    /// metrics.json fields.
    var results: [(String, String)] {
        [
            ("validation_set_accuracy", jsonNumber(accuracy, format: "%.6g")),
            ("validation_set_by_voice", byVoice.json),
        ] + (byGroup.map { [("validation_set_by_group", $0.json)] } ?? [])
    }

    var sections: [ReportSection] {
        func rows(_ a: SpeakerAccuracy) -> [[String]] {
            a.rows.map { [$0.speaker, "\($0.total)", String(format: "%.2f %%", 100 * $0.accuracy)] }
        }
        return
            (byGroup.map {
                [.table(title: "Validation voices per group", header: ["group", "clips", "accuracy"], rows: rows($0))]
            }
            ?? [])
            + [.table(title: "Validation voices", header: ["voice", "clips", "accuracy"], rows: rows(byVoice))]
    }

    var progressLines: [String] {
        [String(format: "validation voices: %.2f %% of %d clips", 100 * accuracy, clips)]
            + (byGroup?.rows ?? []).map {
                "  group \($0.speaker): " + String(format: "%.2f %% of %d", 100 * $0.accuracy, $0.total)
            }
    }
}
