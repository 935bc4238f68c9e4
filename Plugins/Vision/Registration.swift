// The Vision plugin's stages, registered in one place.
import Pipeline

/// Adds vision.train and vision.classify to a registry.
public func registerVisionStages(_ r: StageRegistry) {
    r.register(VisionTrain.spec)
    r.register(VisionClassify.spec)
}
