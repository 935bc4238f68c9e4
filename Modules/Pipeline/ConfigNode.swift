// The parsed configuration tree: every node remembers its file position for error messages.

/// A position in a config file (1-based line and column).
public struct SourcePosition: Equatable, CustomStringConvertible {
    public let file: String, line: Int, column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// A value in a config file: scalar text (typed later against a schema), mapping, sequence or null.
public indirect enum ConfigValue: Equatable {
    case scalar(String, quoted: Bool)
    case map([ConfigEntry])
    case list([ConfigNode])
    case null
}

public struct ConfigEntry: Equatable {
    public let key: String
    public let keyPosition: SourcePosition
    public var value: ConfigNode
    public init(key: String, keyPosition: SourcePosition, value: ConfigNode) {
        self.key = key
        self.keyPosition = keyPosition
        self.value = value
    }
}

public struct ConfigNode: Equatable {
    public var value: ConfigValue
    public let position: SourcePosition
    public init(_ value: ConfigValue, _ position: SourcePosition) {
        self.value = value
        self.position = position
    }

    /// Entries of a mapping node (nil for other kinds).
    public var entries: [ConfigEntry]? { if case .map(let e) = value { return e } else { return nil } }
    public var items: [ConfigNode]? { if case .list(let l) = value { return l } else { return nil } }
    public var text: String? { if case .scalar(let s, _) = value { return s } else { return nil } }
    public subscript(key: String) -> ConfigNode? { entries?.first { $0.key == key }?.value }

    /// Short name of the node's kind for messages ("a mapping", "a list", …).
    public var kindName: String {
        switch value {
        case .scalar(let s, _): return "'\(s)'"
        case .map(let entries): return entries.isEmpty ? "an empty mapping" : "a mapping"
        case .list(let items): return items.isEmpty ? "an empty list" : "a list"
        case .null: return "nothing (null)"
        }
    }
}
