// `dlpipe run --shard K/N`: N shards of a classification run together predict every input exactly once,
// and the same as the unsharded run.
import XCTest
import TestSupport
@testable import Pipeline

final class ShardTests: ScratchFolderTestCase {
    func testShardsTogetherEqualTheUnshardedRun() throws {
        _ = try runPipeline(
            """
            stages:
              - read.png: {train: \(fixtureDigits)/train}
              - image.normalize:
              - vision.train: {model: out/m.safetensors, layers: [{conv: {filters: 4, size: 3}}, {maxpool: 2}, {dense: 16}], epochs: 1}
            """, registry: testRegistry)
        func predictions(_ shard: Shard?) throws -> [String: String] {
            let name = shard.map { "p\($0.index).csv" } ?? "all.csv"
            try """
            stages:
              - read.png: {path: \(fixtureDigits)/test}
              - image.normalize:
              - vision.classify: {model: out/m.safetensors}
              - write.csv: {path: out/\(name)}
            """.write(toFile: dir + "/c.conf", atomically: true, encoding: .utf8)
            _ = try PipelineRunner.run(
                try PipelineConfig.load(dir + "/c.conf", registry: testRegistry),
                progress: ProgressReporter(quiet: true), shard: shard)
            let rows = try String(contentsOfFile: dir + "/out/" + name, encoding: .utf8).split(separator: "\n")
                .dropFirst()
            return Dictionary(
                uniqueKeysWithValues: rows.map { r in
                    let f = r.split(separator: ",")
                    return (String(f[0]), String(f[1]))
                })
        }
        let all = try predictions(nil)
        XCTAssertEqual(all.count, 60)
        var union: [String: String] = [:]
        for k in 0..<3 {
            let part = try predictions(Shard("\(k)/3"))
            XCTAssertGreaterThan(part.count, 5, "shard \(k) of 3 holds a fair share")
            XCTAssertTrue(Set(part.keys).isDisjoint(with: union.keys), "shards overlap")
            union.merge(part) { a, _ in a }
        }
        XCTAssertEqual(union, all)
        XCTAssertNil(Shard("3/3"))
        XCTAssertNil(Shard("1"))
        XCTAssertNil(Shard("-1/2"))
        XCTAssertEqual(Shard("0/1")?.count, 1)
    }
}
