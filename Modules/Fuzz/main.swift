// Coverage-guided fuzz targets for every reader of outside data: the config parser, PNG, audio
// (libsndfile through our checks), safetensors (with model-file metadata), training checkpoints, IDX/gzip and
// HTTP requests. Each input
// must give a value or a typed error — a trap, a hang or runaway memory is a finding.
// Built by scripts/fuzz.sh with -sanitize=fuzzer,address and -DFUZZING; a normal build only prints
// how to run it. Usage: dlpipe-fuzz TARGET [libFuzzer arguments...]
import Foundation
import Tensor
import NN
import Media
import Pipeline
import Training

/// One fuzz target: feeds one input to a reader.
struct FuzzTarget {
    let name: String
    let run: (Data) -> Void
}

/// A scratch file for the readers that take a path (libsndfile, zlib).
let scratch = "/dev/shm/dlpipe-fuzz-\(getpid())"

func viaFile(_ data: Data, _ ext: String, _ body: (String) throws -> Void) {
    let path = scratch + "." + ext
    _ = FileManager.default.createFile(atPath: path, contents: data)
    _ = try? body(path)
}

let targets: [FuzzTarget] = [
    FuzzTarget(name: "config") { d in
        guard let root = try? ConfigParser.parse(d, file: "fuzz.conf", environment: ["A": "x"]) else { return }
        if let layers = root["layers"] { _ = try? LayerListParser.parse(layers) }
    },
    FuzzTarget(name: "png") { d in _ = try? PNG.decode(d, file: "fuzz.png") },
    // Clips are capped at 2 s and not resampled, so an execution decodes little: the header, size and limit
    // checks are what is fuzzed. (Resampling 768 kHz input costs 2,304 taps per output sample: inputs that
    // claimed high rates held the run at 22 executions a second. The resampler has its own tests.)
    FuzzTarget(name: "audio") { d in
        var limits = Audio.Limits()
        limits.maxSeconds = 2
        viaFile(d, "wav") { _ = try Audio.read($0, limits: limits) }
    },
    FuzzTarget(name: "safetensors") { d in
        guard let (tensors, meta) = try? Safetensors.decode(d, file: "fuzz.safetensors") else { return }
        if let model = try? ModelFile(metadata: meta, file: "fuzz.safetensors"),
            model.inputShape.reduce(1, *) <= 4096,
            let net = try? Network(layers: model.layers, inputShape: model.inputShape, seed: 0)
        {
            try? net.load(tensors, file: "fuzz.safetensors")
        }
    },
    FuzzTarget(name: "idx") { d in viaFile(d, "idx.gz") { _ = try IDX.read($0) } },
    // An HTTP request as a client sends it: the parser with small limits (so the limits themselves are
    // reached), then the upload of a multipart body.
    FuzzTarget(name: "http") { d in
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 2048
        limits.maxBodyBytes = 1 << 16
        guard case .request(let r, _)? = try? HTTPRequestParser.parse([UInt8](d), limits: limits) else { return }
        if let type = r.header("content-type"), type.lowercased().hasPrefix("multipart/form-data") {
            _ = try? MultipartForm.file(in: r.body, contentType: type)
        }
    },
    // A checkpoint is restored into a fixed run (it must carry that run's fingerprint: the seed corpus holds
    // one, written by `dlpipe-fuzz checkpoint --write-seed FILE`), then trained one step: what is accepted
    // must also be usable.
    FuzzTarget(name: "checkpoint") { d in
        viaFile(d, "ckpt") { path in
            let run = try CheckpointFixture()
            _ = try TrainingCheckpoint.restore(
                from: path, stage: "fuzz", fingerprint: CheckpointFixture.fingerprint, epochs: 5,
                networks: [("model", run.net)], groups: [run.group])
            run.step()
        }
    },
]

/// The tiny training run the checkpoint target restores into: dense layers with dropout (a random
/// stream) and Adam (moments and a step count).
struct CheckpointFixture {
    static let fingerprint = TrainingFingerprint(network: "fuzz", data: "fuzz", settings: "fuzz")
    let net: Network, group: ParameterGroup

    init() throws {
        let root = try ConfigParser.parse(
            Data("layers: [{dense: 3}, {dropout: 0.5}]".utf8), file: "fuzz.conf", environment: [:])
        net = try Network(layers: LayerListParser.parse(root["layers"]!), inputShape: [4], seed: 0)
        group = ParameterGroup("model", parameters: net.parameters, settings: OptimizerSettings())
    }

    func step() {
        net.train()
        net.zeroGrad()
        net(Tensor.uniform([2, 4], seed: 1)).sum().backward()
        group.optimizer.step()
    }

    /// A valid checkpoint of this run after one step: the seed the fuzzer mutates.
    func writeSeed(_ path: String) throws {
        step()
        var report = TrainingReport(title: "fuzz")
        report.epochs = [[Metric("loss", 1)]]
        try TrainingCheckpoint.write(
            to: path, stage: "fuzz", fingerprint: Self.fingerprint, epochsDone: 1, networks: [("model", net)],
            groups: [group], random: [("data", SeededRandom(seed: 1))], report: report)
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

nonisolated(unsafe) var selected: FuzzTarget!

/// libFuzzer's runtime references this symbol even when the driver is given a callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected.run(data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

var args = CommandLine.arguments
if args.count == 4 && args[1] == "checkpoint" && args[2] == "--write-seed" {
    do {
        try CheckpointFixture().writeSeed(args[3])
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
}
guard args.count >= 2, let t = targets.first(where: { $0.name == args[1] }) else {
    FileHandle.standardError.write(
        Data(
            "usage: dlpipe-fuzz TARGET [libFuzzer options] (targets: \(targets.map { $0.name }.joined(separator: ", ")))\n"
                .utf8))
    exit(2)
}
selected = t
args.remove(at: 1)
var cargs = args.map { strdup($0) } + [nil]
var argc = Int32(args.count)
let status = cargs.withUnsafeMutableBufferPointer { buf -> Int32 in
    var argv = buf.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) }
}
for p in ["wav", "idx.gz", "ckpt"] { unlink(scratch + "." + p) }
exit(status)
#else
FileHandle.standardError.write(
    Data(
        "dlpipe-fuzz is built by scripts/fuzz.sh (with -sanitize=fuzzer); targets: \(targets.map { $0.name }.joined(separator: ", "))\n"
            .utf8))
exit(2)
#endif
