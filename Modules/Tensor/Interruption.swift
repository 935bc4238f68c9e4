// A process-wide "please stop" flag: the signal handler sets it, and long loops at any layer
// (resampling, decoding, training) check it and end with `Interruption.Stopped` instead of running on.
// A plain flag is enough: it only ever goes from false to true during a run, and a loop that reads it
// a little late stops at its next check.

public enum Interruption {
    nonisolated(unsafe) public static var requested = false

    public struct Stopped: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "interrupted" }
    }

    /// Throws `Stopped` once a stop was requested.
    public static func check() throws { if requested { throw Stopped() } }
}
