// A stage's options as a Decodable struct: its stored properties are the options, its CodingKeys their
// names in the config's spelling, and `StageOptions.decode` fills it from the validated values, so the
// struct is the one place an option is read and a misspelt name is a compile error (as swift-argument-
// parser turns a command's options into a struct). Values were checked against the schema before, so a
// mismatch here is a programming error in the stage, reported with the option's name.
//
//     struct Options: Decodable {
//         enum CodingKeys: String, CodingKey, OptionKey { case model, topK = "top_k" }
//         let model: String, topK: Int
//     }
//     let options = try stageOptions.decode(Options.self)

extension StageOptions {
    /// The options as `T`; an optional property is nil when its option is unset.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: OptionValuesDecoder(stage: stage, values: values, value: nil, codingPath: []))
    }
}

/// Decodes the options (keyed) or one option's value (single value, lists).
struct OptionValuesDecoder: Decoder {
    let stage: String
    let values: [String: OptionValue]
    let value: OptionValue?
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        let name = codingPath.map(\.stringValue).joined(separator: ".")
        return .typeMismatch(
            Any.self, .init(codingPath: codingPath, debugDescription: "option \(stage).\(name) is not \(expected)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard value == nil else { throw mismatch("a set of options") }
        return KeyedDecodingContainer(OptionValuesContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .list(let items)? = value else { throw mismatch("a list") }
        return OptionListContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { OptionValueContainer(decoder: self) }

    /// The decoder of one value below this one.
    func child(_ value: OptionValue?, key: CodingKey) -> OptionValuesDecoder {
        OptionValuesDecoder(stage: stage, values: [:], value: value, codingPath: codingPath + [key])
    }
}

/// The stage's options by name.
struct OptionValuesContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: OptionValuesDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var allKeys: [Key] { decoder.values.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { decoder.values[key.stringValue] != nil }
    func decodeNil(forKey key: Key) throws -> Bool { decoder.values[key.stringValue] == nil }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let v = decoder.values[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(codingPath: codingPath, debugDescription: "option \(decoder.stage).\(key.stringValue) is unset"))
        }
        return try T(from: decoder.child(v, key: key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw decoder.child(decoder.values[key.stringValue], key: key).mismatch("a set of options")
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder.child(decoder.values[key.stringValue], key: key).unkeyedContainer()
    }
    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder.child(decoder.values[key.stringValue], key: key) }
}

/// One option's value: a number, a flag or text (a path or a choice is text).
struct OptionValueContainer: SingleValueDecodingContainer {
    let decoder: OptionValuesDecoder
    var codingPath: [CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == nil }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b)? = decoder.value else { throw decoder.mismatch("a bool") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s)? = decoder.value else { throw decoder.mismatch("text") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        switch decoder.value {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: throw decoder.mismatch("a number")
        }
    }
    func decode(_ type: Int.Type) throws -> Int {
        guard case .int(let v)? = decoder.value else { throw decoder.mismatch("an int") }
        return v
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int8.Type) throws -> Int8 { throw decoder.mismatch("an Int8") }
    func decode(_ type: Int16.Type) throws -> Int16 { throw decoder.mismatch("an Int16") }
    func decode(_ type: Int32.Type) throws -> Int32 { throw decoder.mismatch("an Int32") }
    func decode(_ type: Int64.Type) throws -> Int64 { Int64(try decode(Int.self)) }
    func decode(_ type: UInt.Type) throws -> UInt { throw decoder.mismatch("a UInt") }
    func decode(_ type: UInt8.Type) throws -> UInt8 { throw decoder.mismatch("a UInt8") }
    func decode(_ type: UInt16.Type) throws -> UInt16 { throw decoder.mismatch("a UInt16") }
    func decode(_ type: UInt32.Type) throws -> UInt32 { throw decoder.mismatch("a UInt32") }
    func decode(_ type: UInt64.Type) throws -> UInt64 { throw decoder.mismatch("a UInt64") }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
}

/// A list option's items.
struct OptionListContainer: UnkeyedDecodingContainer {
    let decoder: OptionValuesDecoder
    let items: [OptionValue]
    var currentIndex = 0
    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(decoder: OptionValuesDecoder, items: [OptionValue]) {
        self.decoder = decoder
        self.items = items
    }

    struct Index: CodingKey {
        let intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { return nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else { throw decoder.mismatch("a longer list") }
        defer { currentIndex += 1 }
        return try T(from: decoder.child(items[currentIndex], key: Index(currentIndex)))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        throw decoder.mismatch("a list of values")
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        throw decoder.mismatch("a list of values")
    }
    mutating func superDecoder() throws -> Decoder { decoder }
}
