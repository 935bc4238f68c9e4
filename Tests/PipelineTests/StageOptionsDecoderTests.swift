// A stage's options decoded into its options struct: every value type, unset optionals, lists, and a
// type mismatch named by stage and option.
import XCTest
@testable import Pipeline

final class StageOptionsDecoderTests: XCTestCase {
    struct Options: Decodable, Equatable {
        enum CodingKeys: String, CodingKey, OptionKey {
            case count, rate, enabled, name, seedTo = "seed_to", ensemble, missing
        }
        let count: Int, rate: Double, enabled: Bool, name: String, seedTo: Int
        let ensemble: [String]
        let missing: String?
    }

    func options(_ values: [String: OptionValue]) -> StageOptions {
        StageOptions(
            stage: "x.stage", position: SourcePosition(file: "p.conf", line: 3, column: 5), values: values,
            configDirectory: "/")
    }

    func testEveryTypeDecodes() throws {
        let o = options([
            "count": .int(7), "rate": .int(2), "enabled": .bool(true), "name": .string("a b"), "seed_to": .int(-1),
            "ensemble": .list([.string("m1"), .string("m2")]),
        ])
        XCTAssertEqual(
            try o.decode(Options.self),
            Options(count: 7, rate: 2, enabled: true, name: "a b", seedTo: -1, ensemble: ["m1", "m2"], missing: nil))
        XCTAssertEqual(try o.with(["missing": .string("here")]).decode(Options.self).missing, "here")
    }

    func testAMismatchNamesTheStageAndOption() {
        let o = options([
            "count": .string("seven"), "rate": .float(0.5), "enabled": .bool(false), "name": .string(""),
            "seed_to": .int(0),
            "ensemble": .list([]),
        ])
        XCTAssertThrowsError(try o.decode(Options.self)) { e in
            XCTAssertTrue("\(e)".contains("option x.stage.count is not an int"), "\(e)")
        }
        XCTAssertThrowsError(try options(["count": .int(1)]).decode(Options.self)) { e in
            XCTAssertTrue("\(e)".contains("option x.stage.rate is unset"), "\(e)")
        }
    }
}
