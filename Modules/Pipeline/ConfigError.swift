// Config errors carry the exact position: "digits.conf:12:7: message".

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let position: SourcePosition
    public let message: String
    public init(_ position: SourcePosition, _ message: String) {
        self.position = position
        self.message = message
    }
    public var description: String { "\(position): \(message)" }
}

/// Closest candidate by edit distance, for "did you mean …?" hints.
public func closestMatch(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var prev = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return a.isEmpty ? b.count : prev[b.count]
    }
    let w = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(w, Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, w.count / 3) ? best.0 : nil
}
