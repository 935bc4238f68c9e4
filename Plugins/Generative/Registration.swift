// The Generative plugin's stages.
import Pipeline

public func registerGenerativeStages(_ r: StageRegistry) {
    for s in [GANTrain.spec, GANSample.spec, GANEvaluate.spec] { r.register(s) }
}
