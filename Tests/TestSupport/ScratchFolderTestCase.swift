// Shared by the test targets: a test case with a fresh scratch folder.
import Foundation
import XCTest
import Pipeline

/// A test case with a fresh scratch folder `dir`, removed afterwards.
open class ScratchFolderTestCase: XCTestCase {
    public var dir: String!
    open override func setUp() {
        super.setUp()
        dir = NSTemporaryDirectory() + "dlpipe-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    open override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }
}

extension ScratchFolderTestCase {
    /// Writes `conf` into the scratch folder as `name` and runs it with `registry`'s stages.
    public func runPipeline(_ conf: String, name: String = "p.conf", registry: StageRegistry) throws -> RunSummary {
        let path = dir + "/" + name
        try conf.write(toFile: path, atomically: true, encoding: .utf8)
        return try PipelineRunner.run(
            try PipelineConfig.load(path, registry: registry), progress: ProgressReporter(quiet: true))
    }
}
