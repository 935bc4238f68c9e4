// `dlpipe serve --listen` as a client sees it, on an ephemeral loopback port: every route, raw and
// multipart uploads, keep-alive, concurrent clients batched together, hostile requests (each answered
// with a JSON error naming the problem), a slow client timed out, SIGHUP swapping a pipeline only when its
// new config is good, and SIGTERM letting a request in flight finish.
import Foundation
import TestSupport
import XCTest

final class HTTPServeTests: ScratchFolderTestCase {
    let digits = repoRoot + "/Tests/VisionTests/Fixtures/digits"
    var server: Process?
    var port = 0

    override func tearDown() {
        if let s = server, s.isRunning {
            s.terminate()
            s.waitUntilExit()
        }
        super.tearDown()
    }

    /// A small digit classifier and two pipelines serving it ("digits" with top_k 3, "copy" with top_k 2).
    func writePipelines() throws {
        try
            "stages:\n  - read.png: {train: \(digits)/train, test: \(digits)/test}\n  - image.normalize:\n  - vision.train: {model: m.safetensors, layers: [{dense: 16}], epochs: 2}\n"
            .write(toFile: dir + "/train.conf", atomically: true, encoding: .utf8)
        let t = try dlpipe(["run", dir + "/train.conf", "-q"])
        XCTAssertEqual(t.status, 0, t.stderr)
        try pipeline("digits", topK: 3)
        try pipeline("copy", topK: 2)
    }

    func pipeline(_ name: String, topK: Int, model: String = "m.safetensors") throws {
        try
            "stages:\n  - read.png: {path: unused}\n  - image.normalize:\n  - vision.classify: {model: \(model), top_k: \(topK)}\n  - write.csv: {path: out.csv}\n"
            .write(toFile: dir + "/\(name).conf", atomically: true, encoding: .utf8)
    }

    /// Starts the service and waits until it is ready; `log` receives its messages.
    func start(_ extra: [String] = [], pipelines: [String] = ["digits", "copy"]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve"] + pipelines.map { dir + "/\($0).conf" } + ["--listen", "127.0.0.1:0"] + extra
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = env
        let log = dir + "/serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        server = p
        let deadline = Date().addingTimeInterval(30)
        while port == 0 && Date() < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                port = Int(text[r].split(separator: ":").last!.dropLast())!
            }
            usleep(20_000)
        }
        XCTAssertGreaterThan(port, 0, "the service said where it listens")
        while Date() < deadline, (try? request("GET /readyz HTTP/1.1\r\n\r\n").status) != 200 { usleep(20_000) }
        XCTAssertEqual(try request("GET /readyz HTTP/1.1\r\n\r\n").status, 200)
    }

    struct Response {
        let status: Int
        let headers: String
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends `head` (and `body`) on a new connection, half-closes it, and reads the whole answer.
    func request(_ head: String, body: Data = Data(), connection fd: Int32? = nil) throws -> Response {
        let s = try fd ?? connect()
        defer { if fd == nil { close(s) } }
        var bytes = Data(head.utf8) + body
        if fd == nil, !head.contains("Connection:") {
            // One request per connection unless the test keeps it open.
            bytes = Data(head.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n").utf8) + body
        }
        try sendAll(s, bytes)
        return try readResponse(s)
    }

    func connect() throws -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else { throw NSError(domain: "connect", code: Int(errno)) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return s
    }

    func sendAll(_ s: Int32, _ data: Data) throws {
        var sent = 0
        while sent < data.count {
            let n = data.withUnsafeBytes {
                Glibc.send(s, $0.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw NSError(domain: "send", code: Int(errno)) }
            sent += n
        }
    }

    /// One response: the head, then Content-Length bytes of body.
    func readResponse(_ s: Int32) throws -> Response {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        func more() throws {
            let n = recv(s, &chunk, chunk.count, 0)
            guard n > 0 else { throw NSError(domain: "recv", code: Int(errno)) }
            buffer.append(contentsOf: chunk[0..<n])
        }
        while buffer.range(of: Data("\r\n\r\n".utf8)) == nil { try more() }
        let headEnd = buffer.range(of: Data("\r\n\r\n".utf8))!
        let head = String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self)
        let status = Int(head.split(separator: " ")[1])!
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .map { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))! } ?? 0
        while buffer.count - headEnd.upperBound < length { try more() }
        let body = buffer[headEnd.upperBound..<(headEnd.upperBound + length)]
        return Response(status: status, headers: head, body: Data(body))
    }

    func digit(_ label: String) throws -> Data {
        let folder = digits + "/test/" + label
        let name = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first!
        return try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
    }

    func post(_ pipeline: String, _ body: Data, type: String = "image/png", query: String = "") throws -> Response {
        try request(
            "POST /v1/pipelines/\(pipeline)\(query) HTTP/1.1\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n",
            body: body)
    }

    func testRoutesUploadsAndKeepAlive() throws {
        try writePipelines()
        try start()
        XCTAssertEqual(try request("GET /healthz HTTP/1.1\r\n\r\n").json["status"] as? String, "ok")
        let list = try request("GET /v1/pipelines HTTP/1.1\r\n\r\n")
        let pipelines = try XCTUnwrap(list.json["pipelines"] as? [[String: Any]])
        XCTAssertEqual(pipelines.map { $0["name"] as? String }, ["copy", "digits"])
        XCTAssertEqual(pipelines[0]["classes"] as? [String], (0...9).map(String.init))
        XCTAssertEqual(pipelines[0]["input"] as? [Int], [1, 28, 28])
        // The model's recorded held-out figures (the fixture digits' test split).
        let accuracy = try XCTUnwrap((pipelines[0]["results"] as? [String: Any])?["test_accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))

        // The same digit raw and from an HTML form: the same answer, in the spool's result format.
        let seven = try digit("7")
        let raw = try post("digits", seven)
        XCTAssertEqual(raw.status, 200, raw.text)
        let label = try XCTUnwrap(raw.json["label"] as? String)
        XCTAssertEqual((raw.json["top"] as? [[String: Any]])?.count, 3)
        XCTAssertNotNil(raw.json["confidence"] as? Double)
        XCTAssertTrue((raw.json["model"] as? String)?.hasSuffix("m.safetensors") == true)
        let form =
            Data(
                "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"seven.png\"\r\nContent-Type: image/png\r\n\r\n"
                    .utf8)
            + seven + Data("\r\n--XYZ--\r\n".utf8)
        let multipart = try post("digits", form, type: "multipart/form-data; boundary=XYZ")
        XCTAssertEqual(multipart.status, 200, multipart.text)
        XCTAssertEqual(multipart.json["label"] as? String, label)
        XCTAssertEqual(multipart.json["file"] as? String, "seven.png")
        XCTAssertEqual((try post("digits", seven, query: "?top_k=1").json["top"] as? [[String: Any]])?.count, 1)
        XCTAssertEqual(
            (try post("copy", seven).json["top"] as? [[String: Any]])?.count, 2, "each pipeline its own config")

        // Keep-alive: three requests on one connection.
        let fd = try connect()
        defer { close(fd) }
        for _ in 0..<3 {
            let r = try request(
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: \(seven.count)\r\n\r\n",
                body: seven, connection: fd)
            XCTAssertEqual(r.status, 200)
            XCTAssertTrue(r.headers.contains("Connection: keep-alive"), r.headers)
        }

        let page = try request("GET / HTTP/1.1\r\n\r\n")
        XCTAssertTrue(page.headers.contains("text/html"))
        XCTAssertTrue(page.text.contains("/v1/pipelines"))
        let metrics = try request("GET /metrics HTTP/1.1\r\n\r\n").text
        XCTAssertTrue(metrics.contains("dlpipe_requests_total{pipeline=\"digits\",status=\"200\"} 6"), metrics)
        XCTAssertTrue(metrics.contains("dlpipe_request_seconds_count{pipeline=\"digits\"} 6"), metrics)
        XCTAssertTrue(metrics.contains("process_resident_memory_bytes "), metrics)
    }

    func testConcurrentClientsAreBatchedTogether() throws {
        try writePipelines()
        try start(["--max-delay-ms", "20", "--max-batch", "32"])
        let images = try (0..<10).map { try digit(String($0)) }
        let expected = try images.map { try XCTUnwrap(post("digits", $0).json["label"] as? String) }
        let clients = 16, each = 8
        let lock = NSLock()
        var answers: [(Int, String?)] = []
        DispatchQueue.concurrentPerform(iterations: clients) { c in
            for k in 0..<each {
                let i = (c + k) % images.count
                let r = try? self.post("digits", images[i])
                lock.lock()
                answers.append((i, r?.status == 200 ? r?.json["label"] as? String : nil))
                lock.unlock()
            }
        }
        XCTAssertEqual(answers.count, clients * each)
        for (i, label) in answers { XCTAssertEqual(label, expected[i], "image \(i)") }
        // 10 + 128 inputs in fewer forward passes than inputs: concurrent requests shared batches.
        let metrics = try request("GET /metrics HTTP/1.1\r\n\r\n").text
        let passes = try XCTUnwrap(
            metrics.split(separator: "\n").first { $0.hasPrefix("dlpipe_batch_size_count{pipeline=\"digits\"}") })
        let count = Int(passes.split(separator: " ").last!)!
        print("138 requests from 16 clients ran in \(count) forward passes")
        XCTAssertLessThan(count, 138)
    }

    func testHostileRequestsGetAJSONErrorAndTheServiceGoesOn() throws {
        try writePipelines()
        try start(["--max-body-mb", "1", "--request-timeout", "1"])
        let seven = try digit("7")
        let cases: [(String, Data, Int, String)] = [
            ("GARBAGE\r\n\r\n", Data(), 400, "malformed request line"),
            ("GET / HTTP/2.0\r\n\r\n", Data(), 505, "only HTTP/1.1"),
            ("GET /nowhere HTTP/1.1\r\n\r\n", Data(), 404, "no route /nowhere"),
            ("GET /v1/pipelines/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\n\r\n", Data(), 404, "no route"),
            ("POST /v1/pipelines/nope HTTP/1.1\r\nContent-Length: 0\r\n\r\n", Data(), 404, "no pipeline named 'nope'"),
            ("DELETE /healthz HTTP/1.1\r\n\r\n", Data(), 405, "DELETE is not allowed"),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\n",
                Data("abcd".utf8), 415, "text/html"
            ),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n",
                Data("abcd".utf8), 415, "neither a PNG"
            ),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 30\r\n\r\n",
                seven.prefix(30), 422, "PNG"
            ),
            (
                "POST /v1/pipelines/digits?top_k=0 HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: \(seven.count)\r\n\r\n",
                seven, 400, "top_k"
            ),
            ("POST /v1/pipelines/digits HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", Data(), 413, "exceeds the limit"),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", Data(), 400,
                "malformed Content-Length"
            ),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Data(), 400,
                "chunk size"
            ),
            ("POST /v1/pipelines/digits HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", Data(), 501, "gzip"),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=Q\r\nContent-Length: 9\r\n\r\n",
                Data("--Q\r\nabc\r".utf8), 400, "multipart"
            ),
            (
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: multipart/form-data\r\nContent-Length: 3\r\n\r\n",
                Data("abc".utf8), 400, "boundary"
            ),
            ("GET / HTTP/1.1\r\n" + (0..<80).map { "X-H\($0): v\r\n" }.joined() + "\r\n", Data(), 431, "headers"),
            ("GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 20000) + "\r\n\r\n", Data(), 431, "exceed"),
        ]
        for (head, body, status, fragment) in cases {
            let r = try request(head, body: body)
            XCTAssertEqual(r.status, status, "\(head.prefix(60)): \(r.text)")
            XCTAssertEqual(r.json["status"] as? Int, status)
            XCTAssertTrue((r.json["error"] as? String)?.contains(fragment) == true, "\(head.prefix(60)): \(r.text)")
        }
        // A chunked upload is read whole.
        var chunked = Data(
            "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for part in stride(from: 0, to: seven.count, by: 100).map({ seven[$0..<min($0 + 100, seven.count)] }) {
            chunked += Data((String(part.count, radix: 16) + "\r\n").utf8) + part + Data("\r\n".utf8)
        }
        chunked += Data("0\r\n\r\n".utf8)
        XCTAssertEqual(try request("", body: chunked).status, 200)

        // A slow client: half a request, then silence, is answered 408 after the request timeout.
        let fd = try connect()
        defer { close(fd) }
        try sendAll(fd, Data("POST /v1/pipelines/digits HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc".utf8))
        let started = Date()
        let slow = try readResponse(fd)
        XCTAssertEqual(slow.status, 408, slow.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(try post("digits", seven).status, 200, "still serving")
        XCTAssertTrue(server!.isRunning)
    }

    func testSIGHUPSwapsOnlyAGoodConfigAndSIGTERMFinishesTheRequestInFlight() throws {
        try writePipelines()
        try start()
        let seven = try digit("7")
        XCTAssertEqual((try post("digits", seven).json["top"] as? [[String: Any]])?.count, 3)
        try pipeline("digits", topK: 1)
        kill(server!.processIdentifier, SIGHUP)
        var top = 3
        let deadline = Date().addingTimeInterval(10)
        while top != 1 && Date() < deadline {
            usleep(50_000)
            top = (try post("digits", seven).json["top"] as? [[String: Any]])?.count ?? 0
        }
        XCTAssertEqual(top, 1, "the new config serves")
        try pipeline("digits", topK: 2, model: "missing.safetensors")
        kill(server!.processIdentifier, SIGHUP)
        usleep(500_000)
        XCTAssertEqual(
            (try post("digits", seven).json["top"] as? [[String: Any]])?.count, 1, "a bad config is not swapped in")
        let log = try String(contentsOfFile: dir + "/serve.log", encoding: .utf8)
        XCTAssertTrue(log.contains("not reloaded, the running pipeline is kept"), log)

        // SIGTERM while a request is half sent: it is finished and answered, then the process exits 0.
        let fd = try connect()
        defer { close(fd) }
        try sendAll(
            fd,
            Data(
                "POST /v1/pipelines/digits HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: \(seven.count)\r\n\r\n"
                    .utf8) + seven.prefix(50))
        usleep(200_000)
        kill(server!.processIdentifier, SIGTERM)
        usleep(200_000)
        try sendAll(fd, seven.dropFirst(50))
        let r = try readResponse(fd)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertTrue(r.headers.contains("Connection: close"))
        server!.waitUntilExit()
        XCTAssertEqual(server!.terminationStatus, 0)
    }

    /// A generator (gan.sample) is served as a sampler: the same seed draws the same PNG, a class can be
    /// asked of a conditional one, and the routes of the other kind are refused.
    func testAGeneratorIsServedAsSamples() throws {
        try writePipelines()
        try """
        stages:
          - read.png: {train: \(digits)/train}
          - image.normalize:
          - gan.train:
              model: g.safetensors
              noise: 16
              conditional: true
              epochs: 1
              batch_size: 16
        \(tinyDCGANLayers)

        """.write(toFile: dir + "/gan-train.conf", atomically: true, encoding: .utf8)
        let t = try dlpipe(["run", dir + "/gan-train.conf", "-q"])
        XCTAssertEqual(t.status, 0, t.stderr)
        try "stages:\n  - gan.sample: {model: g.safetensors, folder: unused, count: 20}\n"
            .write(toFile: dir + "/gan.conf", atomically: true, encoding: .utf8)
        try start(pipelines: ["gan", "digits"])
        let info = try request("GET /v1/pipelines/gan HTTP/1.1\r\n\r\n").json
        XCTAssertEqual(info["classes"] as? [String], (0...9).map(String.init))
        let a = try request("GET /v1/pipelines/gan/sample?seed=3 HTTP/1.1\r\n\r\n")
        XCTAssertEqual(a.status, 200, a.text)
        XCTAssertTrue(a.headers.contains("Content-Type: image/png"))
        XCTAssertEqual(Array(a.body.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(
            try request("GET /v1/pipelines/gan/sample?seed=3 HTTP/1.1\r\n\r\n").body, a.body, "same seed, same bytes")
        XCTAssertNotEqual(try request("GET /v1/pipelines/gan/sample?seed=4 HTTP/1.1\r\n\r\n").body, a.body)
        XCTAssertEqual(try request("GET /v1/pipelines/gan/sample?seed=3&class=7 HTTP/1.1\r\n\r\n").status, 200)
        let badClass = try request("GET /v1/pipelines/gan/sample?class=x HTTP/1.1\r\n\r\n")
        XCTAssertEqual(badClass.status, 400)
        XCTAssertTrue(
            (badClass.json["error"] as? String)?.contains("class 'x' is not one of the generator's") == true,
            badClass.text)
        XCTAssertEqual(try request("GET /v1/pipelines/gan/sample?seed=-1 HTTP/1.1\r\n\r\n").status, 400)
        XCTAssertEqual(try post("gan", try digit("7")).status, 405)
        XCTAssertEqual(try request("GET /v1/pipelines/digits/sample HTTP/1.1\r\n\r\n").status, 404)
    }

    /// A pipeline serves its spool and its HTTP route from one model and one batcher: dropped files get the
    /// same answers as posted ones, the metrics count the spool, and SIGTERM stops both.
    func testAPipelineServesItsSpoolBesideHTTP() throws {
        try writePipelines()
        let spool = dir + "/spool"
        try start(["--spool", "digits=\(spool)"])
        let seven = try digit("7")
        let posted = try XCTUnwrap(post("digits", seven).json["label"] as? String)
        try FileManager.default.createDirectory(atPath: dir + "/incoming", withIntermediateDirectories: true)
        for i in 0..<20 {
            try seven.write(to: URL(fileURLWithPath: dir + "/incoming/s\(i).png"))
            XCTAssertEqual(rename(dir + "/incoming/s\(i).png", spool + "/inbox/s\(i).png"), 0)
        }
        let deadline = Date().addingTimeInterval(20)
        var done: [String] = []
        while done.count < 20 && Date() < deadline {
            usleep(50_000)
            done = (try? FileManager.default.contentsOfDirectory(atPath: spool + "/done")) ?? []
        }
        XCTAssertEqual(done.count, 20)
        for i in 0..<20 {
            let r =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: spool + "/results/s\(i).png.json"))) as? [String: Any]
            XCTAssertEqual(r?["label"] as? String, posted, "s\(i)")
        }
        let metrics = try request("GET /metrics HTTP/1.1\r\n\r\n").text
        XCTAssertTrue(metrics.contains("dlpipe_spool_files{pipeline=\"digits\",folder=\"done\"} 20"), metrics)
        XCTAssertTrue(metrics.contains("dlpipe_spool_files{pipeline=\"digits\",folder=\"inbox\"} 0"), metrics)
        kill(server!.processIdentifier, SIGTERM)
        server!.waitUntilExit()
        XCTAssertEqual(server!.terminationStatus, 0)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: spool + "/work").filter { !$0.hasPrefix(".") }, [])
    }
}
