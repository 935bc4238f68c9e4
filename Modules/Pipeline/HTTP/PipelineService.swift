// `dlpipe serve --listen`: several pipelines in one process behind HTTP. Each pipeline is named after its
// file (digits-classify.conf → digits-classify), built once (its model loaded once) and fed by its own
// dynamic batcher. A request's body — a PNG or an audio file, raw or the file of an HTML form — is
// written to a private temporary folder and read by the pipeline's own reader, so it gets every check a
// file in a spool gets; the answer is the spool's result JSON. SIGHUP re-reads every config and swaps a
// pipeline only when its new config validates and builds.
import FilesAndText
import Foundation
import NN

public struct ServiceSettings: Sendable {
    /// Most inputs in one forward pass, and how long the oldest waits for company (Triton's terms).
    public var maxBatch = 64
    public var maxDelay = 0.002
    public var overrides: [String] = []
    public init() {}
}

/// What a client is told about a pipeline: its stages, what it reads, and its model's classes and input.
struct PipelineInfo {
    let name: String, file: String, stages: [String], reads: String
    let model: String?, task: String?, classes: [String], input: [Int]
    /// The model's recorded held-out figures (name → number), as the model file holds them.
    var results: [(String, Double)] = []

    var json: String {
        var s =
            "{\"name\":\(jsonQuoted(name)),\"file\":\(jsonQuoted(file)),\"stages\":[\(stages.map(jsonQuoted).joined(separator: ","))]"
        s += ",\"reads\":\(jsonQuoted(reads)),\"route\":\(jsonQuoted("/v1/pipelines/" + name))"
        if let model { s += ",\"model\":\(jsonQuoted(model))" }
        if let task { s += ",\"task\":\(jsonQuoted(task))" }
        s +=
            ",\"classes\":[\(classes.map(jsonQuoted).joined(separator: ","))],\"input\":[\(input.map(String.init).joined(separator: ","))]"
        let figures = results.map { "\(jsonQuoted($0.0)):\(jsonNumber($0.1, format: "%.6g"))" }
        return s + ",\"results\":{" + figures.joined(separator: ",") + "}}"
    }
}

public final class PipelineService: @unchecked Sendable {
    /// A served pipeline: one that reads files (fed by its batcher) or one that draws images (a sampler,
    /// called by one request at a time).
    final class Served {
        let info: PipelineInfo
        let batcher: DynamicBatcher?
        let sampler: ImageSampler?
        let samplerLock = NSLock()
        /// Whether a stage writes files of its own (write.png): such a pipeline cannot also feed a spool here.
        let writesFiles: Bool
        init(
            info: PipelineInfo, batcher: DynamicBatcher? = nil, sampler: ImageSampler? = nil, writesFiles: Bool = false
        ) {
            self.info = info
            self.batcher = batcher
            self.sampler = sampler
            self.writesFiles = writesFiles
        }
    }

    let files: [String]
    let registry: StageRegistry
    let settings: ServiceSettings
    let progress: ProgressReporter
    public let metrics = ServiceMetrics()
    let lock = NSLock()
    var served: [String: Served] = [:]
    var ready = false
    let uploads: String
    var counter = 0
    let worker = "\(ProcessInfo.processInfo.hostName)-\(getpid())"

    /// Checks that every config validates for serving and that no two share a name; nothing is loaded yet.
    public init(configs: [String], registry: StageRegistry, settings: ServiceSettings, progress: ProgressReporter)
        throws
    {
        files = configs
        self.registry = registry
        self.settings = settings
        self.progress = progress
        var names = Set<String>()
        for f in configs {
            let name = Self.name(of: f)
            guard names.insert(name).inserted else {
                throw StageError("serve", "two pipelines are named '\(name)' (\(f))")
            }
            _ = try PipelineConfig.load(f, overrides: settings.overrides, registry: registry)
        }
        // Uploads live only while their batch runs: in memory (tmpfs) where the system has it.
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        uploads = base + "dlpipe-serve-\(getpid())-\(UUID().uuidString.prefix(8))"
        try makeFolder(uploads)
    }

    /// "pipelines/digits-classify.conf" → "digits-classify".
    public static func name(of file: String) -> String {
        let base = (file as NSString).lastPathComponent
        return base.hasSuffix(".conf") ? String(base.dropLast(5)) : base
    }

    /// Builds every pipeline (loading its model); the service is ready afterwards.
    public func load() throws {
        for f in files {
            let s = try build(f)
            lock.lock()
            served[s.info.name] = s
            lock.unlock()
        }
        lock.lock()
        ready = true
        lock.unlock()
        progress.info("dlpipe serve: ready: " + files.map(Self.name).joined(separator: ", "))
    }

    func build(_ file: String) throws -> Served {
        let config = try PipelineConfig.load(file, overrides: settings.overrides, registry: registry)
        if let sampler = try makeSampler(config) { return sampler }
        let pipeline = try ServedPipeline(config, results: uploads + "/results")
        let info = try describe(config, pipeline)
        let metrics = self.metrics, name = info.name
        let batcher = DynamicBatcher(pipeline: pipeline, maxBatch: settings.maxBatch, maxDelay: settings.maxDelay) {
            size, _ in
            metrics.batch(name, size: size)
        }
        return Served(info: info, batcher: batcher, writesFiles: pipeline.writesFiles)
    }

    /// A pipeline whose one stage draws images (gan.sample), served as a sampler; nil for other pipelines.
    func makeSampler(_ config: PipelineConfig) throws -> Served? {
        let (spec, options) = config.stages[0]
        guard spec.serving == .sampler else { return nil }
        guard config.stages.count == 1, let sampler = try spec.make(options) as? ImageSampler else {
            throw ConfigError(
                options.position, "dlpipe serve: \(spec.name) is served on its own, without further stages")
        }
        let info = PipelineInfo(
            name: Self.name(of: config.file), file: config.file, stages: [spec.name], reads: "nothing (draws samples)",
            model: options.optionalString("model"), task: "gan.train", classes: sampler.sampleClasses, input: [])
        return Served(info: info, sampler: sampler)
    }

    func describe(_ config: PipelineConfig, _ pipeline: ServedPipeline) throws -> PipelineInfo {
        var classes: [String] = [], input: [Int] = [], task: String?, results: [(String, Double)] = []
        if let m = pipeline.model, let meta = try? Safetensors.read(m).metadata {
            if case .object(let fields)? = JSONValue.parse(meta["results"] ?? "{}") {
                results = fields.compactMap { k, v in
                    if case .number(let t) = v, let x = Double(t), x.isFinite { (k, x) } else { nil }
                }
            }
            task = meta["task"]
            if case .array(let items)? = JSONValue.parse(meta["labels"] ?? meta["classes"] ?? "[]") {
                classes = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            if case .array(let items)? = JSONValue.parse(meta["input"] ?? "[]") {
                input = items.compactMap { if case .number(let t) = $0 { Int(t) } else { nil } }
            }
        }
        let first = config.stages[0].spec
        var info = PipelineInfo(
            name: Self.name(of: config.file), file: config.file, stages: config.stages.map(\.spec.name),
            reads: first.produces == .audio ? "audio" : "png", model: pipeline.model, task: task, classes: classes,
            input: input)
        info.results = results
        return info
    }

    /// SIGHUP: each config read again; a pipeline is swapped only when its new config validates and builds.
    public func reload() {
        for f in files {
            do {
                let config = try PipelineConfig.load(f, overrides: settings.overrides, registry: registry)
                if let sampler = try makeSampler(config) {
                    lock.lock()
                    served[sampler.info.name] = sampler
                    lock.unlock()
                    progress.info("dlpipe serve: reloaded \(f)")
                    continue
                }
                let pipeline = try ServedPipeline(config, results: uploads + "/results")
                let info = try describe(config, pipeline)
                lock.lock()
                let old = served[info.name]
                lock.unlock()
                if let old, let batcher = old.batcher {
                    batcher.replace(pipeline)
                    lock.lock()
                    served[info.name] = Served(info: info, batcher: batcher, writesFiles: pipeline.writesFiles)
                    lock.unlock()
                }
                progress.info("dlpipe serve: reloaded \(f)")
            } catch {
                progress.error("dlpipe serve: \(f) not reloaded, the running pipeline is kept: \(error)")
            }
        }
    }

    /// What feeds a spool's files to pipeline `name`: its batcher, beside the HTTP requests.
    public func spoolRunner(_ name: String) throws -> SpoolRunner {
        guard let s = snapshot()[name] else {
            throw StageError(
                "serve",
                "--spool \(name)=…: no pipeline named '\(name)' (served: \(snapshot().keys.sorted().joined(separator: ", ")))"
            )
        }
        guard let batcher = s.batcher, !s.writesFiles else {
            throw StageError(
                "serve",
                "--spool \(name)=…: '\(name)' \(s.sampler != nil ? "draws samples" : "writes files of its own"); serve its spool with `dlpipe serve FILE --spool DIR`"
            )
        }
        return SpoolRunner(model: s.info.model) { paths, _ in batcher.runAll(paths) }
    }

    /// Spools fed to the pipelines, for the metrics.
    var spools: [String: SpoolDirectory] = [:]

    public func addSpool(_ name: String, _ spool: SpoolDirectory) {
        lock.lock()
        spools[name] = spool
        lock.unlock()
    }

    /// Stops the batchers (after the batches in hand) and removes the upload folder.
    public func stop() {
        lock.lock()
        let all = Array(served.values)
        lock.unlock()
        for s in all { s.batcher?.stop() }
        try? FileManager.default.removeItem(atPath: uploads)
    }

    var isReady: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ready
    }

    // MARK: Routes

    public func handle(_ r: HTTPRequest) -> HTTPResponse {
        let started = Date()
        var pipeline = ""
        let response: HTTPResponse
        do {
            (response, pipeline) = try route(r)
        } catch let e as HTTPError {
            response = .error(e.status, e.reason)
        } catch {
            response = .error(500, "\(error)")
        }
        metrics.request(pipeline, status: response.status, seconds: Date().timeIntervalSince(started))
        return response
    }

    func route(_ r: HTTPRequest) throws -> (HTTPResponse, String) {
        let parts = r.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        func only(_ method: String) throws {
            guard r.method == method || (method == "GET" && r.method == "HEAD") else {
                throw HTTPError(405, "\(r.method) is not allowed on \(r.path); use \(method)")
            }
        }
        switch parts {
        case [""]:
            try only("GET")
            return (.text(ServicePage.html, contentType: "text/html; charset=utf-8"), "")
        case ["healthz"]:
            try only("GET")
            return (.json("{\"status\":\"ok\"}\n"), "")
        case ["readyz"]:
            try only("GET")
            return (isReady ? .json("{\"ready\":true}\n") : .json("{\"ready\":false}\n", status: 503), "")
        case ["metrics"]:
            try only("GET")
            let depth = snapshot().compactMapValues { $0.batcher?.depth }
            lock.lock()
            let spools = self.spools
            lock.unlock()
            let counts = spools.mapValues { s in
                [
                    "inbox": FolderListing.names(in: s.inbox).count, "done": FolderListing.names(in: s.done).count,
                    "failed": FolderListing.names(in: s.failed).count,
                ]
            }
            return (
                .text(
                    metrics.text(queueDepth: depth, spoolCounts: counts),
                    contentType: "text/plain; version=0.0.4; charset=utf-8"), ""
            )
        case ["v1", "pipelines"]:
            try only("GET")
            let list = snapshot().values.map(\.info).sorted { $0.name < $1.name }
            return (.json("{\"pipelines\":[" + list.map(\.json).joined(separator: ",") + "]}\n"), "")
        case let p where p.count == 3 && p[0] == "v1" && p[1] == "pipelines":
            guard let s = snapshot()[p[2]] else {
                throw HTTPError(
                    404, isReady ? "no pipeline named '\(p[2])'" : "not ready: the pipelines are still loading")
            }
            if r.method == "GET" || r.method == "HEAD" { return (.json(s.info.json + "\n"), s.info.name) }
            try only("POST")
            guard let batcher = s.batcher else {
                throw HTTPError(
                    405, "pipeline '\(s.info.name)' draws samples: GET /v1/pipelines/\(s.info.name)/sample?seed=N")
            }
            return (try predict(r, s.info, batcher), s.info.name)
        case let p where p.count == 4 && p[0] == "v1" && p[1] == "pipelines" && p[3] == "sample":
            guard let s = snapshot()[p[2]] else { throw HTTPError(404, "no pipeline named '\(p[2])'") }
            try only("GET")
            return (try sample(r, s), s.info.name)
        default:
            throw HTTPError(
                404,
                "no route \(r.path); the routes are /, /healthz, /readyz, /metrics, /v1/pipelines, /v1/pipelines/NAME")
        }
    }

    func snapshot() -> [String: Served] {
        lock.lock()
        defer { lock.unlock() }
        return served
    }

    /// GET /v1/pipelines/NAME/sample?seed=N&class=C: a PNG of the samples drawn with that seed.
    func sample(_ r: HTTPRequest, _ s: Served) throws -> HTTPResponse {
        guard let sampler = s.sampler else {
            throw HTTPError(
                404, "pipeline '\(s.info.name)' does not draw samples; POST a file to /v1/pipelines/\(s.info.name)")
        }
        let seedText = r.query["seed"] ?? "1"
        guard let seed = Int(seedText), (0...Int(Int32.max)).contains(seed) else {
            throw HTTPError(400, "seed must be an integer 0…\(Int32.max), not '\(seedText)'")
        }
        let className = r.query["class"].flatMap { $0.isEmpty ? nil : $0 }
        s.samplerLock.lock()
        defer { s.samplerLock.unlock() }
        do {
            return HTTPResponse(contentType: "image/png", body: try sampler.samplePNG(seed: seed, className: className))
        } catch let e as StageError { throw HTTPError(400, e.message) }
    }

    /// POST /v1/pipelines/NAME: the body's file through the pipeline.
    func predict(_ r: HTTPRequest, _ s: PipelineInfo, _ batcher: DynamicBatcher) throws -> HTTPResponse {
        let started = Date()
        batcher.expect()
        var queued = false
        defer { if !queued { batcher.cancel() } }
        var topK: Int?
        if let t = r.query["top_k"] {
            guard let k = Int(t), (1...1000).contains(k) else {
                throw HTTPError(400, "top_k must be an integer 1…1000, not '\(t)'")
            }
            topK = k
        }
        let (data, filename) = try upload(r)
        guard !data.isEmpty else { throw HTTPError(400, "the body is empty: send a PNG or an audio file") }
        guard let kind = MediaKind.sniff(data) else {
            throw HTTPError(
                415, "the body is neither a PNG nor an audio file libsndfile reads (WAV, FLAC, OGG, AIFF, AU)")
        }
        guard (kind == .png) == (s.reads == "png") else {
            throw HTTPError(
                415,
                "pipeline '\(s.name)' reads \(s.reads == "png" ? "PNG images" : "audio"), not \(kind.rawValue)"
            )
        }
        lock.lock()
        counter += 1
        let path = uploads + "/r\(counter).\(kind.rawValue)"
        lock.unlock()
        try writeNewFile(Data(data), to: path, sync: false)
        defer { unlink(path) }
        let shown = filename ?? "upload.\(kind.rawValue)"
        queued = true
        switch batcher.run(path) {
        case .result(let item):
            let ms = Date().timeIntervalSince(started) * 1000
            return .json(
                ResultJSON.make(
                    shown, item, model: s.model, worker: worker, time: ResultJSON.timestamp(Date()), ms: ms,
                    topK: topK))
        case .failed(let reason):
            metrics.failure(s.name, reason: Self.kind(of: reason))
            throw HTTPError(422, reason.replacingOccurrences(of: path, with: shown))
        }
    }

    /// The uploaded file: the raw body, or the file of a multipart/form-data body.
    func upload(_ r: HTTPRequest) throws -> (data: [UInt8], filename: String?) {
        let type = (r.header("content-type") ?? "application/octet-stream").lowercased()
        if type.hasPrefix("multipart/form-data") {
            return try MultipartForm.file(in: r.body, contentType: r.header("content-type")!)
        }
        let accepted = ["application/octet-stream", "image/png", "audio/"]
        guard accepted.contains(where: { type.hasPrefix($0) }) else {
            throw HTTPError(
                415,
                "Content-Type '\(type)' is not served; send image/png, audio/*, application/octet-stream or multipart/form-data"
            )
        }
        return (r.body, r.header("x-filename").map { ($0 as NSString).lastPathComponent })
    }

    /// A failure's reason reduced to a label for the metrics.
    static func kind(of reason: String) -> String {
        let lower = reason.lowercased()
        if lower.contains("not a png") || lower.contains("invalid png") || lower.contains("truncated") {
            return "corrupt"
        }
        if lower.contains("size") || lower.contains("pixels") || lower.contains("shape") || lower.contains("features") {
            return "shape"
        }
        if lower.contains("audio") || lower.contains("sndfile") { return "audio" }
        return "other"
    }
}

/// What an uploaded body is, from its first bytes (the extension the pipeline's reader is handed).
enum MediaKind: String {
    case png, wav, flac, ogg, aiff, au

    static func sniff(_ d: [UInt8]) -> MediaKind? {
        func starts(_ s: [UInt8]) -> Bool { d.count >= s.count && Array(d[0..<s.count]) == s }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("RIFF".utf8)) || starts(Array("RIFX".utf8)) { return .wav }
        if starts(Array("fLaC".utf8)) { return .flac }
        if starts(Array("OggS".utf8)) { return .ogg }
        if starts(Array("FORM".utf8)) { return .aiff }
        if starts(Array(".snd".utf8)) { return .au }
        return nil
    }
}
