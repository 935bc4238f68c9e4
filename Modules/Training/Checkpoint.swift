// A resumable training checkpoint: everything that decides the rest of a run, so that stopping after
// epoch k and resuming gives the same final weights, bit for bit, as never stopping (same thread
// count). One safetensors file, written atomically (a kill during the write leaves the previous one):
//   tensors   network.<net>.<state_dict name>   weights and batch-norm statistics
//             optimizer.<group>.<name>          moments / velocities
//   metadata  format, version, stage, epoch      epochs completed
//             fingerprint                        what the run was: network, data, settings
//             optimizer_steps, random            step counters; every random stream (data order,
//                                                augmentation, dropout masks)
//             history, train_seconds             the report so far
import Foundation
import Tensor
import NN
import FilesAndText

/// What a run is, hashed in three parts so a refusal can say which part changed.
public struct TrainingFingerprint: Equatable {
    public var network: String, data: String, settings: String
    /// Hashes of the canonical descriptions of the three parts.
    public init(network: String, data: String, settings: String) {
        self.network = FNV1a.hex(network.utf8)
        self.data = FNV1a.hex(data.utf8)
        self.settings = FNV1a.hex(settings.utf8)
    }
    init(hashes network: String, _ data: String, _ settings: String) {
        self.network = network
        self.data = data
        self.settings = settings
    }
    var json: String { "{\"network\":\"\(network)\",\"data\":\"\(data)\",\"settings\":\"\(settings)\"}" }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let file: String, message: String
    public var description: String { "\(file): \(message)" }
}

/// The state a checkpoint restores besides the tensors it copies into place.
public struct RestoredTraining {
    public let epochsDone: Int
    public let random: [String: SeededRandom]
    public let history: [[Metric]]
    public let trainSeconds: Double
    /// The report's within-epoch curve so far.
    public let curve: [[Metric]]
}

public enum TrainingCheckpoint {
    static let format = "dlpipe.checkpoint", version = 1

    public static func write(
        to path: String, stage: String, fingerprint: TrainingFingerprint, epochsDone: Int,
        networks: [(name: String, net: Network)], groups: [ParameterGroup],
        random: [(String, SeededRandom)], report: TrainingReport
    ) throws {
        var tensors: [(String, Tensor)] = []
        var randomJSON: [String] = random.map { "\(jsonQuoted($0.0)):\(words($0.1))" }
        for (name, net) in networks {
            tensors += net.stateDict().map { ("network.\(name).\($0.0)", $0.1) }
            for (i, r) in net.randomStates.enumerated() {
                randomJSON.append("\(jsonQuoted("network.\(name).dropout.\(i)")):\(words(r))")
            }
        }
        var steps: [String] = []
        for g in groups {
            let s = g.optimizer.state
            tensors += s.tensors.map { ("optimizer.\(g.name).\($0.0)", $0.1) }
            steps.append("\(jsonQuoted(g.name)):\(s.steps)")
        }
        let meta = [
            "format": format, "version": String(version), "stage": stage, "epoch": String(epochsDone),
            "fingerprint": fingerprint.json, "optimizer_steps": "{" + steps.joined(separator: ",") + "}",
            "random": "{" + randomJSON.joined(separator: ",") + "}",
            "history": report.historyJSON, "train_seconds": String(report.trainSeconds),
            "curve": report.curveJSON,
        ]
        try writeFileAtomically(Safetensors.encode(tensors, metadata: meta), to: path)
    }

    static func words(_ r: SeededRandom) -> String {
        "[" + r.savedState.map { "\"\(String($0, radix: 16))\"" }.joined(separator: ",") + "]"
    }

    /// Reads a checkpoint, refuses one from another run, and copies its state into `networks` and `groups`.
    public static func restore(
        from path: String, stage: String, fingerprint: TrainingFingerprint, epochs: Int,
        networks: [(name: String, net: Network)], groups: [ParameterGroup]
    ) throws -> RestoredTraining {
        func fail(_ m: String) -> CheckpointError { CheckpointError(file: path, message: m) }
        let (tensors, meta) = try Safetensors.read(path)
        guard meta["format"] == format else {
            throw fail("not a dlpipe training checkpoint (format '\(meta["format"] ?? "none")')")
        }
        guard meta["version"].flatMap(Int.init) == version else {
            throw fail("checkpoint version '\(meta["version"] ?? "none")' is not \(version)")
        }
        guard meta["stage"] == stage else {
            throw fail("checkpoint was written by \(meta["stage"] ?? "another stage"), not \(stage)")
        }
        guard case .object(let fp)? = meta["fingerprint"].flatMap(JSONValue.parse) else {
            throw fail("metadata 'fingerprint' is malformed")
        }
        func part(_ k: String) -> String {
            if case .string(let s)? = fp.first(where: { $0.0 == k })?.1 { return s }
            return ""
        }
        let saved = TrainingFingerprint(hashes: part("network"), part("data"), part("settings"))
        let hint = "; delete it or set 'checkpoint' to another file to start afresh"
        if saved.network != fingerprint.network {
            throw fail("checkpoint was written for a different network (layers, input shape or labels differ)" + hint)
        }
        if saved.data != fingerprint.data { throw fail("checkpoint was written for different training data" + hint) }
        if saved.settings != fingerprint.settings {
            throw fail("checkpoint was written with different training settings" + hint)
        }
        guard let done = meta["epoch"].flatMap(Int.init), (1...epochs).contains(done) else {
            throw fail("metadata 'epoch' is not an epoch of this run (1…\(epochs))")
        }
        guard let history = meta["history"].flatMap(TrainingReport.history), history.count == done else {
            throw fail("metadata 'history' is malformed")
        }
        guard let secs = meta["train_seconds"].flatMap(Double.init), secs.isFinite, secs >= 0 else {
            throw fail("metadata 'train_seconds' is malformed")
        }
        let random = try randomStreams(meta["random"], fail)
        guard case .object(let stepFields)? = meta["optimizer_steps"].flatMap(JSONValue.parse) else {
            throw fail("metadata 'optimizer_steps' is malformed")
        }

        for (name, net) in networks {
            let prefix = "network.\(name)."
            let mine = Dictionary(
                uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map {
                    (String($0.key.dropFirst(prefix.count)), $0.value)
                })
            try net.load(mine, file: path)
            var states = net.randomStates
            for i in states.indices {
                guard let r = random["network.\(name).dropout.\(i)"] else {
                    throw fail("no random stream for dropout \(i) of \(name)")
                }
                states[i] = r
            }
            net.randomStates = states
        }
        for g in groups {
            let prefix = "optimizer.\(g.name)."
            let saved = tensors.filter { $0.key.hasPrefix(prefix) }.map {
                (String($0.key.dropFirst(prefix.count)), $0.value)
            }
            guard case .number(let t)? = stepFields.first(where: { $0.0 == g.name })?.1, let steps = Int(t) else {
                throw fail("no step count for optimizer '\(g.name)'")
            }
            do { try g.optimizer.restore(OptimizerState(tensors: saved, steps: steps)) } catch {
                throw fail("optimizer '\(g.name)': \(error)")
            }
        }
        // Checkpoints written before curves existed have none.
        guard let curve = meta["curve"].map({ TrainingReport.history($0) }) ?? [] else {
            throw fail("metadata 'curve' is malformed")
        }
        return RestoredTraining(
            epochsDone: done, random: random, history: history, trainSeconds: secs, curve: curve)
    }

    static func randomStreams(_ json: String?, _ fail: (String) -> CheckpointError) throws -> [String: SeededRandom] {
        guard case .object(let fields)? = json.flatMap(JSONValue.parse) else {
            throw fail("metadata 'random' is malformed")
        }
        var out: [String: SeededRandom] = [:]
        for (name, v) in fields {
            guard case .array(let ws) = v else { throw fail("random stream '\(name)' is malformed") }
            let words = ws.compactMap { w -> UInt64? in
                if case .string(let s) = w { return UInt64(s, radix: 16) }
                return nil
            }
            guard words.count == ws.count, let r = SeededRandom(savedState: words) else {
                throw fail("random stream '\(name)' is malformed")
            }
            out[name] = r
        }
        return out
    }
}
