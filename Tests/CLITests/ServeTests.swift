// `dlpipe serve` as an operator runs it: a spool fed while workers are SIGKILLed and restarted, two
// workers on one spool, SIGTERM and SIGHUP, hostile inbox entries, reused names, and `dlpipe status`.
// Small counts here (CI); scripts/bench-serve.sh runs the full 2,000-file kill test and the speed figures.
import XCTest
import TestSupport

final class ServeTests: ScratchFolderTestCase {
    var spool: String { dir + "/spool" }
    let digits = repoRoot + "/Tests/VisionTests/Fixtures/digits"

    /// A small digit classifier and a pipeline serving it (its write.csv is replaced by the spool's results).
    func writeServedPipeline() throws -> String {
        try
            "stages:\n  - read.png: {train: \(digits)/train}\n  - image.normalize:\n  - vision.train: {model: m.safetensors, layers: [{dense: 16}], epochs: 2}\n"
            .write(toFile: dir + "/train.conf", atomically: true, encoding: .utf8)
        let t = try dlpipe(["run", dir + "/train.conf", "-q"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let conf = dir + "/serve.conf"
        try
            "stages:\n  - read.png: {path: unused}\n  - image.normalize:\n  - vision.classify: {model: m.safetensors, top_k: 2}\n  - write.csv: {path: out.csv}\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        return conf
    }

    /// The fixture digits, `count` of them, every `corruptEvery`-th replaced by garbage with a PNG name.
    func inputs(_ count: Int, corruptEvery: Int = 0) throws -> [(name: String, data: Data)] {
        let files = FileManager.default.enumerator(atPath: digits)!.compactMap { $0 as? String }.filter {
            $0.hasSuffix(".png")
        }.sorted()
        return try (0..<count).map { i in
            let name = String(format: "in%05d.png", i)
            if corruptEvery > 0 && i % corruptEvery == corruptEvery - 1 { return (name, Data("not a png \(i)".utf8)) }
            return (name, try Data(contentsOf: URL(fileURLWithPath: digits + "/" + files[i % files.count])))
        }
    }

    /// Drops a file the way writers should: written beside the inbox, then renamed in.
    func drop(_ name: String, _ data: Data) throws {
        let tmp = spool + "/incoming/" + name
        try data.write(to: URL(fileURLWithPath: tmp))
        XCTAssertEqual(rename(tmp, spool + "/inbox/" + name), 0)
    }

    func startServe(_ conf: String, _ extra: [String] = [], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve", conf, "--spool", spool] + extra
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = env
        XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spool + "/" + folder)) ?? []).sorted()
    }

    /// Whether the kernel has stopped the process (SIGSTOP is delivered asynchronously).
    func isStopped(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("T")
    }

    func waitUntil(_ seconds: Double, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Every input sits in done/ with one result or in failed/ with one error file; nothing is left
    /// anywhere else, and no temp file survives. Returns the results' worker ids.
    func assertEachInputOnce(
        _ dropped: [String], corrupt: Set<String>, file: StaticString = #filePath, line: UInt = #line
    ) throws -> [String] {
        XCTAssertEqual(names("inbox"), [], "inbox empty", file: file, line: line)
        XCTAssertEqual(names("work"), [], "no worker folders or locks left", file: file, line: line)
        let done = Set(names("done")), results = names("results"), failedAll = names("failed")
        let failed = Set(failedAll.filter { !$0.hasSuffix(".error.txt") })
        let errors = Set(failedAll.filter { $0.hasSuffix(".error.txt") })
        XCTAssertEqual(done.union(failed), Set(dropped), "every input is in done/ or failed/", file: file, line: line)
        XCTAssertTrue(done.isDisjoint(with: failed), "no input in both", file: file, line: line)
        XCTAssertEqual(failed, corrupt, "exactly the corrupt inputs failed", file: file, line: line)
        XCTAssertEqual(
            Set(results), Set(done.map { $0 + ".json" }), "one result per done input, no other", file: file, line: line)
        XCTAssertEqual(
            errors, Set(failed.map { $0 + ".error.txt" }), "one error file per failed input", file: file, line: line)
        var workers: [String] = []
        for r in results {
            let data = try Data(contentsOf: URL(fileURLWithPath: spool + "/results/" + r))
            let json = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: data) as? [String: Any], r, file: file, line: line)
            XCTAssertEqual(json["file"] as? String, String(r.dropLast(5)), file: file, line: line)
            XCTAssertNotNil(json["label"] as? String, r, file: file, line: line)
            XCTAssertEqual((json["top"] as? [Any])?.count, 2, file: file, line: line)
            workers.append(try XCTUnwrap(json["worker"] as? String, file: file, line: line))
        }
        for e in errors {
            let text = try String(contentsOfFile: spool + "/failed/" + e, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix(String(e.dropLast(10)) + ": not a PNG file"), text, file: file, line: line)
        }
        return workers
    }

    func testKilledThreeTimesWhileFedEveryInputHasExactlyOneOutcome() throws {
        let conf = try writeServedPipeline()
        try FileManager.default.createDirectory(atPath: spool + "/incoming", withIntermediateDirectories: true)
        XCTAssertEqual(try dlpipe(["serve", conf, "--spool", spool, "--once", "-q"]).status, 0, "creates the spool")
        let files = try inputs(300, corruptEvery: 9)
        let corrupt = Set(files.filter { $0.data.count < 40 }.map { $0.name })
        // A writer keeps dropping files while workers are killed and restarted.
        let writer = Thread {
            for f in files {
                try? self.drop(f.name, f.data)
                usleep(2000)
            }
        }
        writer.start()
        var heldWhenKilled = 0, heldByLast = 0
        for k in 0..<3 {
            let p = try startServe(
                conf, ["--batch", "8", "--poll", "0.02", "--worker", "K\(k)"], log: dir + "/serve\(k).log")
            // Killed while it holds claimed inputs: between a claim and the end of its commit. A batch can
            // be committed between seeing it claimed and the kill, so the worker is frozen first, and killed
            // only once its folder is seen holding inputs while frozen.
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                waitUntil(1) { !self.names("work/K\(k)").isEmpty }
                usleep(UInt32.random(in: 0...4000))
                XCTAssertTrue(p.isRunning)
                kill(p.processIdentifier, SIGSTOP)
                waitUntil(5) { self.isStopped(p.processIdentifier) }
                if !names("work/K\(k)").isEmpty { break }
                kill(p.processIdentifier, SIGCONT)
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal)
            heldWhenKilled += names("work/K\(k)").count
            heldByLast = names("work/K\(k)").count
        }
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertGreaterThan(heldWhenKilled, 0, "the killed workers left inputs in work/")
        // The next worker recovers the dead workers' inputs and processes the rest.
        let last = try dlpipe(["serve", conf, "--spool", spool, "--once"])
        XCTAssertEqual(last.status, 0, last.stderr)
        // The last killed worker's inputs are recovered by this one (the earlier ones' by the next to start).
        if heldByLast > 0 { XCTAssertTrue(last.stderr.contains("recovered inputs of stopped workers"), last.stderr) }
        let workers = try assertEachInputOnce(files.map { $0.name }, corrupt: corrupt)
        print(
            "serve kill test: \(heldWhenKilled) inputs held by killed workers; results by \(Dictionary(grouping: workers, by: { $0 }).mapValues { $0.count }); "
                + "\(last.stderr.split(separator: "\n").filter { $0.contains("recovered") })")
    }

    func testTwoWorkersOnOneSpoolNeverProcessAnInputTwiceAndStopOnSIGTERM() throws {
        let conf = try writeServedPipeline()
        try FileManager.default.createDirectory(atPath: spool + "/incoming", withIntermediateDirectories: true)
        XCTAssertEqual(try dlpipe(["serve", conf, "--spool", spool, "--once", "-q"]).status, 0)
        let a = try startServe(conf, ["--batch", "4", "--worker", "A"], log: dir + "/a.log")
        let b = try startServe(conf, ["--batch", "4", "--worker", "B"], log: dir + "/b.log")
        waitUntil(20) { Set(self.names("work")).isSuperset(of: ["A", "B"]) }
        let files = try inputs(400, corruptEvery: 25)
        for f in files { try drop(f.name, f.data) }
        waitUntil(60) { self.names("done").count + self.names("failed").count == 400 + 16 }
        for p in [a, b] { p.terminate() }
        for p in [a, b] {
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "SIGTERM ends a worker cleanly")
        }
        let workers = try assertEachInputOnce(
            files.map { $0.name }, corrupt: Set(files.filter { $0.data.count < 40 }.map { $0.name }))
        let perWorker = Dictionary(grouping: workers, by: { $0 }).mapValues { $0.count }
        XCTAssertEqual(perWorker.values.reduce(0, +), 384)
        XCTAssertEqual(Set(perWorker.keys), ["A", "B"], "both workers took part: \(perWorker)")
        print("two workers: \(perWorker)")
        let status = try dlpipe(["status", spool, "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["done"] as? Int, 384)
        XCTAssertEqual(json["failed"] as? Int, 16)
        XCTAssertEqual(json["queued"] as? Int, 0)
        XCTAssertEqual(json["last_minute"] as? Int, 400)
    }

    func testHostileEntriesReusedNamesAndReload() throws {
        let conf = try writeServedPipeline()
        try FileManager.default.createDirectory(atPath: spool + "/incoming", withIntermediateDirectories: true)
        XCTAssertEqual(try dlpipe(["serve", conf, "--spool", spool, "--once", "-q"]).status, 0)
        let good = try inputs(1)[0].data
        XCTAssertEqual(symlink("/etc/passwd", spool + "/inbox/link.png"), 0)
        try FileManager.default.createDirectory(atPath: spool + "/inbox/folder.png", withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(spool + "/inbox/fifo.png", 0o644), 0)
        try Data("half".utf8).write(to: URL(fileURLWithPath: spool + "/inbox/.partial.png"))  // a writer's temp name
        try drop("a.png", good)
        // A name of 250 bytes (no room for ".error.txt" beside it) and one that is not UTF-8.
        let long = String(repeating: "é", count: 123) + ".png"
        try drop(long, good)
        let raw =
            Array((spool + "/inbox/caf").utf8CString.dropLast()) + [CChar(bitPattern: 0xE9), 0x2E, 0x70, 0x6E, 0x67, 0]
        let fd = open(raw, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = good.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let p = try startServe(conf, ["--poll", "0.05"], log: dir + "/s.log")
        waitUntil(20) { self.names("done").count == 3 && self.names("failed").count == 6 }
        XCTAssertEqual(
            names("failed"),
            ["fifo.png", "fifo.png.error.txt", "folder.png", "folder.png.error.txt", "link.png", "link.png.error.txt"])
        let done = names("done")
        XCTAssertTrue(done.contains("a.png") && done.contains("caf_.png"), "\(done)")
        let shortened = try XCTUnwrap(done.first { $0.hasPrefix("éé") })
        XCTAssertTrue(shortened.hasSuffix(".png") && shortened.contains("~") && shortened.utf8.count < 240, shortened)
        XCTAssertTrue(names("results").contains(shortened + ".json"))
        XCTAssertTrue(
            try String(contentsOfFile: spool + "/failed/link.png.error.txt", encoding: .utf8).contains("symbolic link"))
        XCTAssertEqual(names("inbox"), [".partial.png"], "temp names are left alone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: spool + "/inbox/.partial.png"))

        // A name dropped again keeps the first result and gets its own.
        let first = try Data(contentsOf: URL(fileURLWithPath: spool + "/results/a.png.json"))
        try drop("a.png", good)
        waitUntil(20) { self.names("done").contains("a~2.png") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: spool + "/results/a.png.json")), first)
        XCTAssertTrue(names("results").contains("a~2.png.json"))

        // SIGHUP with a broken config: reported, and the old pipeline keeps serving.
        try "stages:\n  - read.png: {path: x}\n  - vision.clasify: {model: m.safetensors}\n".write(
            toFile: conf, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        waitUntil(10) {
            ((try? String(contentsOfFile: self.dir + "/s.log", encoding: .utf8)) ?? "").contains("keeping the pipeline")
        }
        try drop("b.png", good)
        waitUntil(20) { self.names("done").contains("b.png") }
        XCTAssertTrue(names("results").contains("b.png.json"), "still serving after a bad reload")
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let log = try String(contentsOfFile: dir + "/s.log", encoding: .utf8)
        XCTAssertTrue(
            log.contains("serve.conf:3:5: unknown stage 'vision.clasify' (did you mean 'vision.classify'?)"), log)
        XCTAssertTrue(log.contains("keeping the pipeline loaded before"), log)
    }

    func testServeRefusesWhatItCannotServeBeforeTouchingTheSpool() throws {
        let train = dir + "/train.conf"
        try "stages:\n  - read.png: {train: t}\n  - vision.train: {model: m.safetensors}\n".write(
            toFile: train, atomically: true, encoding: .utf8)
        let r = try dlpipe(["serve", train, "--spool", spool])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(
            r.stderr.contains(
                "train.conf:3:5: dlpipe serve: vision.train needs the whole run at once and cannot be served"), r.stderr
        )
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: spool), "nothing created for a config that cannot be served")
        let conf = try writeServedPipeline()
        try Data().write(to: URL(fileURLWithPath: dir + "/plainfile"))
        let notFolder = try dlpipe(["serve", conf, "--spool", dir + "/plainfile"])
        XCTAssertEqual(notFolder.status, 2)
        XCTAssertTrue(notFolder.stderr.contains("plainfile: exists and is not a folder"), notFolder.stderr)
        XCTAssertEqual(try dlpipe(["serve", conf]).status, 2)
        XCTAssertTrue(
            try dlpipe(["serve", conf, "--spool", spool, "--worker", "../x"]).stderr.contains("--worker needs a name"))
        let status = try dlpipe(["status", dir])
        XCTAssertEqual(status.status, 2)
        XCTAssertTrue(status.stderr.contains("not a spool"), status.stderr)
    }
}
