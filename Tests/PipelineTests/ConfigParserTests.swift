// The config language: every construct parses to the right tree; every malformed input gives the
// right "file:line:col: cause"; no byte string crashes the parser.
import XCTest
import Tensor
@testable import Pipeline

func parse(_ s: String, env: [String: String] = [:]) throws -> ConfigNode {
    try ConfigParser.parse(Data(s.utf8), file: "t.conf", environment: env)
}

final class ConfigParserTests: XCTestCase {
    func testEveryConstruct() throws {
        let text = """
            # a comment
            name: demo   # trailing comment
            numbers: [1, 2.5, -3]
            flow: {a: 1, b: [x, "y z"], c: {}}
            quoted: "tab\\there \\"q\\" \\u00e9 # not a comment"
            single: 'it''s # kept'
            empty:
            tilde: ~
            env: ${HOME_DIR}/data
            fallback: ${MISSING:-default value}
            stages:
              - read.png:
                  path: images
                  limit: 5
              - image.normalize: {size: 28}
              - plain item
              -
                nested: true
            list_same_indent:
            - a
            - b
            """
        let root = try parse(text, env: ["HOME_DIR": "/home/u"])
        XCTAssertEqual(root["name"]?.text, "demo")
        XCTAssertEqual(root["numbers"]?.items?.compactMap { $0.text }, ["1", "2.5", "-3"])
        XCTAssertEqual(root["flow"]?["b"]?.items?.compactMap { $0.text }, ["x", "y z"])
        XCTAssertEqual(root["flow"]?["c"]?.entries?.count, 0)
        XCTAssertEqual(root["quoted"]?.text, "tab\there \"q\" é # not a comment")
        XCTAssertEqual(root["single"]?.text, "it's # kept")
        XCTAssertEqual(root["empty"]?.value, .null)
        XCTAssertEqual(root["tilde"]?.value, .null)
        XCTAssertEqual(root["env"]?.text, "/home/u/data")
        XCTAssertEqual(root["fallback"]?.text, "default value")
        let stages = root["stages"]!.items!
        XCTAssertEqual(stages.count, 4)
        XCTAssertEqual(stages[0]["read.png"]?["limit"]?.text, "5")
        XCTAssertEqual(stages[0]["read.png"]?["path"]?.position.line, 13)
        XCTAssertEqual(stages[0]["read.png"]?["path"]?.position.column, 13)
        XCTAssertEqual(stages[1]["image.normalize"]?["size"]?.text, "28")
        XCTAssertEqual(stages[2].text, "plain item")
        XCTAssertEqual(stages[3]["nested"]?.text, "true")
        XCTAssertEqual(root["list_same_indent"]?.items?.compactMap { $0.text }, ["a", "b"])
    }

    func testCRLFAndBOM() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb:\r\n  - x\r\n".utf8)
        let root = try ConfigParser.parse(Data(bytes), file: "w.conf", environment: [:])
        XCTAssertEqual(root["a"]?.text, "1")
        XCTAssertEqual(root["b"]?.items?.first?.text, "x")
    }

    func expectError(
        _ text: String, _ line: Int, _ col: Int, _ fragment: String, file: StaticString = #filePath, l: UInt = #line
    ) {
        XCTAssertThrowsError(try parse(text), file: file, line: l) { e in
            guard let ce = e as? ConfigError else { return XCTFail("not a ConfigError: \(e)", file: file, line: l) }
            XCTAssertEqual(ce.position.line, line, "\(ce)", file: file, line: l)
            XCTAssertEqual(ce.position.column, col, "\(ce)", file: file, line: l)
            XCTAssertTrue(ce.message.contains(fragment), "expected '\(fragment)' in \(ce)", file: file, line: l)
            XCTAssertTrue(ce.description.hasPrefix("t.conf:\(line):\(col): "), ce.description, file: file, line: l)
        }
    }

    func testSyntaxErrorsHavePositions() {
        expectError("a: 1\n\tb: 2\n", 2, 1, "tab character in indentation")
        expectError("a:\n    b: 1\n   c: 2\n", 3, 4, "inconsistent indentation")
        expectError("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first defined at line 1)")
        expectError("a: \"open\n", 1, 4, "unclosed quote")
        expectError("a: [1, 2\n", 1, 4, "unclosed '['")
        expectError("a: {x: 1\n", 1, 4, "unclosed '{'")
        expectError("a: x: y\n", 1, 5, "unexpected ': ' inside a value")
        expectError("a: *ref\n", 1, 4, "unsupported YAML feature")
        expectError("just words\n", 1, 1, "expected 'key: value'")
        expectError("a: ${NOPE}\n", 1, 4, "environment variable NOPE is not set")
        expectError("a: \"bad \\q\"\n", 1, 9, "unknown escape")
        expectError("a: " + String(repeating: "x", count: 5000) + "\n", 1, 4097, "line too long")
        expectError("", 1, 1, "empty config")
        expectError("- a\n- b\n", 1, 1, "top level must be a mapping")
        XCTAssertThrowsError(
            try ConfigParser.parse(Data([0x61, 0x3A, 0x20, 0xC3, 0x28, 0x0A]), file: "t.conf", environment: [:])
        ) { e in
            XCTAssertEqual("\(e)", "t.conf:1:4: invalid UTF-8")
        }
        expectError("a: " + String(repeating: "[", count: 200), 1, 51, "nesting deeper")
    }

    func testRandomMutationsNeverCrash() {
        // 100k seeded mutations of a real pipeline file: every one parses or fails with a ConfigError.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../pipelines/digits-train.conf").standardized
        let base = [UInt8]((try? Data(contentsOf: url)) ?? Data("stages:\n  - read.png: {path: x}\n".utf8))
        var rng = SeededRandom(seed: 77)
        let alphabet = Array(" :-#[]{},'\"\\\t\n\r${}~&*|>".utf8) + [0xFF, 0xC3, 0x00]
        var parsed = 0, rejected = 0
        var misplaced: [String] = []
        for _ in 0..<100_000 {
            var b = base
            for _ in 0..<(1 + rng.nextInt(4)) {
                switch rng.nextInt(4) {
                case 0: b[rng.nextInt(b.count)] = alphabet[rng.nextInt(alphabet.count)]
                case 1: b.insert(alphabet[rng.nextInt(alphabet.count)], at: rng.nextInt(b.count))
                case 2: if b.count > 1 { b.remove(at: rng.nextInt(b.count)) }
                default: b = Array(b.prefix(rng.nextInt(b.count + 1)))
                }
                if b.isEmpty { b = [0x61] }
            }
            // An error must point inside the file: line 1…(lines + 1), a column ≥ 1, a message.
            let lines = b.filter { $0 == 0x0A }.count + 1
            do {
                _ = try ConfigParser.parse(Data(b), file: "f", environment: [:])
                parsed += 1
            } catch let e as ConfigError {
                rejected += 1
                if e.position.file != "f" || !(1...lines + 1).contains(e.position.line) || e.position.column < 1
                    || e.message.isEmpty
                {
                    misplaced.append("\(e)")
                }
            } catch {
                XCTFail("unexpected error type \(error)")
                return
            }
        }
        print(
            "config mutations: \(parsed) parsed, \(rejected) rejected with a positioned error, \(misplaced.count) misplaced"
        )
        XCTAssertEqual(misplaced, [], "errors must point inside the file")
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(parsed, 1000)
    }
}

/// Constructs that are easy to misread silently or refuse wrongly.
final class ConfigEdgeCaseTests: XCTestCase {
    func testNestedDefaultsExpand() throws {
        XCTAssertEqual(try parse("a: ${A:-${B}}\n", env: ["B": "bee"])["a"]?.text, "bee")
        XCTAssertEqual(try parse("a: ${A:-${B:-x/${C:-c}}}/d\n")["a"]?.text, "x/c/d")
        XCTAssertEqual(try parse("a: \"${A:-${B}}\"\n", env: ["A": "set", "B": "bee"])["a"]?.text, "set")
        XCTAssertThrowsError(try parse("a: ${A:-${B}\n")) { XCTAssertTrue("\($0)".contains("unclosed '${'"), "\($0)") }
    }

    func testVariablesInsideFlowCollections() throws {
        let root = try parse("x: {size: ${SIZE:-28}, list: [${A:-1}, 2]}\n", env: ["A": "7"])
        XCTAssertEqual(root["x"]?["size"]?.text, "28")
        XCTAssertEqual(root["x"]?["list"]?.items?.compactMap { $0.text }, ["7", "2"])
    }

    func testBlockListAtTheIndentOfItsKeyFollowedByMoreKeys() throws {
        let root = try parse("stages:\n- read.png: {path: a}\n- write.png:\n    folder: b\non_error: stop\n")
        XCTAssertEqual(root["stages"]?.items?.count, 2)
        XCTAssertEqual(root["stages"]?.items?[1]["write.png"]?["folder"]?.text, "b")
        XCTAssertEqual(root["on_error"]?.text, "stop")
    }

    func testNULIsRefusedNotTruncated() throws {
        XCTAssertThrowsError(try parse("p: \"out/m\\0ontage.png\"\n")) { e in
            XCTAssertEqual(
                "\(e)", "t.conf:1:10: a NUL character (\\0) cannot be part of a value (paths would be cut at it)")
        }
        XCTAssertThrowsError(try ConfigParser.parse(Data("p: out/m\0x.png\n".utf8), file: "t.conf", environment: [:])) {
            e in
            XCTAssertTrue("\(e)".hasPrefix("t.conf:1:9: a NUL character"), "\(e)")
        }
    }
}
