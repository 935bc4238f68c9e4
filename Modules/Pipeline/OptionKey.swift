// Option names as types: a stage lists its options' names once, as the cases of a String enum, and uses
// the cases both in its schema and where it parses the values into its options struct, so a misspelt
// option is a compile error rather than a trap at run time.
//
//     enum Key: String, OptionKey { case epochs, batchSize = "batch_size" }
//     OptionSpec(Key.batchSize, .int(1...65_536), default: .int(32), doc: "…")
//     let batch = o.int(Key.batchSize)

/// The names of a stage's options.
public protocol OptionKey: RawRepresentable where RawValue == String {}

extension OptionSpec {
    public init<K: OptionKey>(
        _ key: K, _ type: OptionType, default defaultValue: OptionValue? = nil, required: Bool = false, doc: String
    ) {
        self.init(key.rawValue, type, default: defaultValue, required: required, doc: doc)
    }
}

extension StageOptions {
    public func int<K: OptionKey>(_ k: K) -> Int { int(k.rawValue) }
    public func float<K: OptionKey>(_ k: K) -> Double { float(k.rawValue) }
    public func bool<K: OptionKey>(_ k: K) -> Bool { bool(k.rawValue) }
    public func string<K: OptionKey>(_ k: K) -> String { string(k.rawValue) }
    public func optionalString<K: OptionKey>(_ k: K) -> String? { optionalString(k.rawValue) }
    public func strings<K: OptionKey>(_ k: K) -> [String] { strings(k.rawValue) }
    public func node<K: OptionKey>(_ k: K) -> ConfigNode? { node(k.rawValue) }
    public func has<K: OptionKey>(_ k: K) -> Bool { has(k.rawValue) }
    /// Where option `k` is written, or the stage's place when it is not.
    public func position<K: OptionKey>(of k: K) -> SourcePosition { node(k.rawValue)?.position ?? position }
}
