// What the HTTP service reports to Prometheus (text exposition format 0.0.4): requests by pipeline and
// status, a latency histogram, a batch-size histogram, queue depth, spool counts, failures by reason and
// the process's memory. Counters only grow; every update takes one lock.
import Foundation

public final class ServiceMetrics: @unchecked Sendable {
    /// Upper bounds of the latency histogram's buckets, seconds.
    static let latencyBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

    struct Histogram {
        var counts: [Int]
        var sum = 0.0, count = 0
        init(_ buckets: Int) { counts = [Int](repeating: 0, count: buckets) }
        mutating func observe(_ v: Double, bounds: [Double]) {
            for (i, b) in bounds.enumerated() where v <= b { counts[i] += 1 }
            sum += v
            count += 1
        }
    }

    let lock = NSLock()
    var requests: [String: Int] = [:]  // "pipeline\tstatus"
    var failures: [String: Int] = [:]  // "pipeline\treason"
    var latency: [String: Histogram] = [:]
    var batches: [String: Histogram] = [:]

    public init() {}

    /// A request answered for `pipeline` ("" for the service's own routes) with `status` after `seconds`.
    public func request(_ pipeline: String, status: Int, seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        requests["\(pipeline)\t\(status)", default: 0] += 1
        if !pipeline.isEmpty {
            latency[pipeline, default: Histogram(Self.latencyBuckets.count)].observe(
                seconds, bounds: Self.latencyBuckets)
        }
    }

    /// An input of `pipeline` that failed, by the kind of reason.
    public func failure(_ pipeline: String, reason: String) {
        lock.lock()
        defer { lock.unlock() }
        failures["\(pipeline)\t\(reason)", default: 0] += 1
    }

    public func batch(_ pipeline: String, size: Int) {
        lock.lock()
        defer { lock.unlock() }
        batches[pipeline, default: Histogram(Self.batchBuckets.count)].observe(Double(size), bounds: Self.batchBuckets)
    }

    /// The exposition text; `gauges` adds the values read at scrape time (queue depth per pipeline…).
    public func text(queueDepth: [String: Int], spoolCounts: [String: [String: Int]] = [:]) -> String {
        lock.lock()
        defer { lock.unlock() }
        var out =
            "# HELP dlpipe_requests_total HTTP requests answered, by pipeline and status.\n# TYPE dlpipe_requests_total counter\n"
        for (k, n) in requests.sorted(by: { $0.key < $1.key }) {
            let p = k.split(separator: "\t", omittingEmptySubsequences: false)
            out += "dlpipe_requests_total{pipeline=\"\(escaped(String(p[0])))\",status=\"\(p[1])\"} \(n)\n"
        }
        out +=
            "# HELP dlpipe_request_seconds Time from a request's arrival to its answer.\n# TYPE dlpipe_request_seconds histogram\n"
        for (name, h) in latency.sorted(by: { $0.key < $1.key }) {
            out += histogram("dlpipe_request_seconds", name, h, Self.latencyBuckets)
        }
        out += "# HELP dlpipe_batch_size Inputs per forward pass.\n# TYPE dlpipe_batch_size histogram\n"
        for (name, h) in batches.sorted(by: { $0.key < $1.key }) {
            out += histogram("dlpipe_batch_size", name, h, Self.batchBuckets)
        }
        out += "# HELP dlpipe_queue_depth Inputs waiting for their batch.\n# TYPE dlpipe_queue_depth gauge\n"
        for (name, d) in queueDepth.sorted(by: { $0.key < $1.key }) {
            out += "dlpipe_queue_depth{pipeline=\"\(escaped(name))\"} \(d)\n"
        }
        out +=
            "# HELP dlpipe_failures_total Inputs that could not be processed, by reason.\n# TYPE dlpipe_failures_total counter\n"
        for (k, n) in failures.sorted(by: { $0.key < $1.key }) {
            let p = k.split(separator: "\t", omittingEmptySubsequences: false)
            out +=
                "dlpipe_failures_total{pipeline=\"\(escaped(String(p[0])))\",reason=\"\(escaped(String(p[1])))\"} \(n)\n"
        }
        if !spoolCounts.isEmpty {
            out +=
                "# HELP dlpipe_spool_files Files in each folder of a pipeline's spool.\n# TYPE dlpipe_spool_files gauge\n"
            for (name, folders) in spoolCounts.sorted(by: { $0.key < $1.key }) {
                for (folder, n) in folders.sorted(by: { $0.key < $1.key }) {
                    out += "dlpipe_spool_files{pipeline=\"\(escaped(name))\",folder=\"\(folder)\"} \(n)\n"
                }
            }
        }
        out +=
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n"
        out += "process_resident_memory_bytes \(Self.residentBytes())\n"
        return out
    }

    func histogram(_ metric: String, _ pipeline: String, _ h: Histogram, _ bounds: [Double]) -> String {
        let label = "pipeline=\"\(escaped(pipeline))\""
        var out = ""
        for (i, b) in bounds.enumerated() { out += "\(metric)_bucket{\(label),le=\"\(b)\"} \(h.counts[i])\n" }
        out +=
            "\(metric)_bucket{\(label),le=\"+Inf\"} \(h.count)\n\(metric)_sum{\(label)} \(h.sum)\n\(metric)_count{\(label)} \(h.count)\n"
        return out
    }

    func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Resident set size from /proc/self/statm (pages × page size).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
