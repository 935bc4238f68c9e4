// The Sequence plugin's stages, registered in one place.
import Pipeline

/// Adds sequence.train, sequence.classify, text.read, text.train and text.generate to a registry.
public func registerSequenceStages(_ r: StageRegistry) {
    r.register(SequenceTrain.spec)
    r.register(SequenceClassify.spec)
    r.register(TextRead.spec)
    r.register(TextTrain.spec)
    r.register(TextGenerate.spec)
}
