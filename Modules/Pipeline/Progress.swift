// Progress output on stderr. On a terminal: one redrawn line per long task, Keras-style
// ("epoch 3/10  96/125 [=======>...] 8123 img/s - loss: 0.081 - acc: 0.975 - ETA 1s");
// otherwise (logs, CI): a plain line every few seconds and one at the end, never "\r".
import Foundation

public final class ProgressReporter: @unchecked Sendable {
    public let quiet: Bool, verbose: Bool
    let isTTY: Bool
    /// Prints nothing at all, errors included (their owner reports them another way).
    let silent: Bool
    let lock = NSLock()
    var liveLine = false

    public init(quiet: Bool = false, verbose: Bool = false, isTTY: Bool = isatty(2) != 0, silent: Bool = false) {
        self.quiet = quiet || silent
        self.verbose = verbose && !silent
        self.isTTY = isTTY
        self.silent = silent
    }

    func write(_ s: String) {
        if silent { return }
        lock.lock()
        defer { lock.unlock() }
        var out = s
        if liveLine {
            out = "\r\u{1B}[K" + out
            liveLine = false
        }
        FileHandle.standardError.write(Data(out.utf8))
    }

    /// A normal message (suppressed by --quiet).
    public func info(_ s: String) { if !quiet { write(terminalSafe(s) + "\n") } }
    /// Extra detail (only with --verbose).
    public func detail(_ s: String) { if verbose { write(terminalSafe(s) + "\n") } }
    /// An error about one input; always shown.
    public func error(_ s: String) { write(terminalSafe(s) + "\n") }

    /// Starts a progress line for `total` steps of `title`.
    public func task(_ title: String, total: Int, unit: String) -> ProgressTask {
        ProgressTask(self, title: title, total: total, unit: unit)
    }

    func live(_ s: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + s).utf8))
        liveLine = true
    }
}

public final class ProgressTask {
    let reporter: ProgressReporter
    let title: String, total: Int, unit: String
    let start = Date()
    var lastDraw = Date.distantPast
    var lastPlain = Date()

    init(_ r: ProgressReporter, title: String, total: Int, unit: String) {
        reporter = r
        self.title = title
        self.total = max(total, 1)
        self.unit = unit
    }

    func line(_ done: Int, _ metrics: [(String, String)], final: Bool) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let width = 24
        let filled = min(width, done * width / total)
        let bar =
            String(repeating: "=", count: filled)
            + (filled < width ? ">" + String(repeating: ".", count: width - filled - 1) : "")
        var s = "\(title) \(done)/\(total) [\(bar)] \(Int(rate)) \(unit)/s"
        for (k, v) in metrics { s += " - \(k): \(v)" }
        if final {
            s += String(format: " - %.1fs", elapsed)
        } else if rate > 0 {
            s += " - ETA \(Int((Double(total - done) / rate).rounded(.up)))s"
        }
        return s
    }

    /// Reports `done` steps so far with optional metrics (cheap to call every step: output is throttled).
    public func update(_ done: Int, _ metrics: [(String, String)] = []) {
        if reporter.quiet { return }
        let now = Date()
        if reporter.isTTY {
            if now.timeIntervalSince(lastDraw) >= 0.1 {
                lastDraw = now
                reporter.live(line(done, metrics, final: false))
            }
        } else if now.timeIntervalSince(lastPlain) >= 5 {
            lastPlain = now
            reporter.write(line(done, metrics, final: false) + "\n")
        }
    }

    /// Prints the final line for this task.
    public func finish(_ done: Int, _ metrics: [(String, String)] = []) {
        if reporter.quiet { return }
        reporter.write(line(done, metrics, final: true) + "\n")
    }
}

/// `s` with control characters other than newline and tab shown as \u{…}: file names, labels and
/// tensor names come from outside, and an escape sequence in one must not drive the terminal.
public func terminalSafe(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: isControl) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        if isControl(u) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
    }
    return out
}

private func isControl(_ u: Unicode.Scalar) -> Bool {
    (u.value < 0x20 && u != "\n" && u != "\t") || (0x7F...0x9F).contains(u.value)
}
