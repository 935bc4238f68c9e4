// The characters a text model knows: every Unicode scalar of its training text, in code-point order.
// The model file keeps them as its labels, so generation and evaluation use the same ids.
import Foundation

struct Vocabulary {
    let characters: [Unicode.Scalar]
    let ids: [Unicode.Scalar: Int32]

    init(_ characters: [Unicode.Scalar]) {
        self.characters = characters
        ids = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, Int32($0)) })
    }

    /// Every scalar of `text`, sorted.
    init(of texts: [String]) {
        var set = Set<Unicode.Scalar>()
        for t in texts { for u in t.unicodeScalars { set.insert(u) } }
        self.init(set.sorted { $0.value < $1.value })
    }

    /// From a model's labels: each must be one Unicode scalar.
    init?(labels: [String]) {
        var chars: [Unicode.Scalar] = []
        for l in labels {
            let s = Array(l.unicodeScalars)
            guard s.count == 1 else { return nil }
            chars.append(s[0])
        }
        self.init(chars)
    }

    var count: Int { characters.count }
    var labels: [String] { characters.map { String($0) } }

    struct Encoded {
        let ids: [Int32]
        let unknown: Int
    }

    /// The ids of `text`; characters outside the vocabulary are left out and counted.
    func encode(_ text: String) -> Encoded {
        var out: [Int32] = [], unknown = 0
        out.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            if let id = ids[u] { out.append(id) } else { unknown += 1 }
        }
        return Encoded(ids: out, unknown: unknown)
    }

    func decode(_ ids: [Int32]) -> String {
        var s = String.UnicodeScalarView()
        for i in ids { s.append(characters[Int(i)]) }
        return String(s)
    }
}
