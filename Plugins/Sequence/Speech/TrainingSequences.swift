// The labelled feature sequences a sequence.train stage gathered: checked to share one feature width,
// normalised as the model will record, with their classes in natural order and their speakers, and
// split into training and validation parts by speaker (or at random by input file, copies following
// their input, when no validation speakers are named).
import Foundation
import Tensor
import Media
import Pipeline
import Training

struct LabelledSequence {
    let features: Tensor
    let label: String
    let file: String
    let speaker: String
    /// True for an augmented copy (audio.augment) of another input.
    let isCopy: Bool
    /// The input this example came from (itself, or the original of a copy).
    var source: String {
        isCopy ? String(file[..<(file.range(of: "#aug", options: .backwards)?.lowerBound ?? file.endIndex)]) : file
    }
}

struct TrainingSequences {
    let examples: [LabelledSequence]
    let classes: [String]
    let index: [String: Int]
    let featureWidth: Int
    /// Frames of the longest training sequence (the model file's nominal input length).
    let longest: Int

    init(_ examples: [LabelledSequence], stage: String) throws {
        guard let first = examples.first else { throw StageError(stage, "no training sequences arrived") }
        featureWidth = first.features.shape[1]
        for e in examples where e.features.shape[1] != featureWidth {
            throw StageError(
                stage,
                "feature sequences differ in width (\(featureWidth) features, and \(e.features.shape[1]) in \(e.file))")
        }
        self.examples = examples
        classes = Array(Set(examples.map { $0.label })).sorted(by: FileList.naturalOrder)
        guard classes.count >= 2 else { throw StageError(stage, "need at least 2 classes, found \(classes)") }
        index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        longest = examples.map { $0.features.shape[0] }.max()!
    }

    /// Which files with which labels, in arrival order: what a checkpoint's data must match.
    var identity: String { examples.map { "\($0.file)\t\($0.label)\t\($0.features.shape)" }.joined(separator: "\n") }

    struct Split {
        let train: [LabelledSequence]
        let validation: [LabelledSequence]
    }

    /// Validation: every original clip of `speakers` (their copies are dropped), or else a random
    /// `fraction` of the inputs (drawn from `random`) with their copies left out of training.
    func split(validationSpeakers speakers: Set<String>, fraction: Double, random: inout SeededRandom) -> Split {
        if !speakers.isEmpty {
            return Split(
                train: examples.filter { !speakers.contains($0.speaker) },
                validation: examples.filter { speakers.contains($0.speaker) && !$0.isCopy })
        }
        var sources = Array(Set(examples.map { $0.source })).sorted()
        random.shuffle(&sources)
        let held = Set(sources.prefix(Int(Double(sources.count) * fraction)))
        return Split(
            train: examples.filter { !held.contains($0.source) },
            validation: examples.filter { held.contains($0.source) && !$0.isCopy })
    }

    /// A padded batch of `part` with labels and lengths (for validation).
    func batch(_ part: [LabelledSequence]) -> LabelledBatch {
        LabelledBatch(
            x: SequenceBatches.pad(part.map { $0.features }), labels: part.map { index[$0.label]! },
            lengths: part.map { $0.features.shape[0] })
    }
}
