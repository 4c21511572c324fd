import Foundation

/// A parsed JSON value that keeps what JSONSerialization blurs on Linux: `true` is not 1,
/// and an integer is not a fraction.
public indirect enum JSONValue: Decodable, Equatable, Sendable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        // Probing in this order: JSONDecoder refuses a number as Bool and a fraction as Int64.
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .integer(i); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    public subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public subscript(_ index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    public var int: Int64? { if case .integer(let i) = self { return i }; return nil }
    /// An integer or a fraction, as a Double.
    public var double: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
}

/// The part of JSON Schema (draft 2020-12) that docs/status.schema.json uses: type, const,
/// enum, minimum, maximum, required, properties, additionalProperties, items, anyOf and
/// local `$ref`s. A keyword outside that subset is an error, so the schema cannot grow a rule
/// this validator would silently skip.
public struct JSONSchemaSubset {
    let root: JSONValue
    static let annotations: Set<String> = ["$schema", "$defs", "title", "description"]
    static let keywords: Set<String> = ["type", "const", "enum", "minimum", "maximum", "required", "properties",
                                        "additionalProperties", "items", "$ref", "anyOf"]

    public init(_ schema: JSONValue) { root = schema }

    /// Every violation, each with the JSON pointer of the value at fault; empty if valid.
    public func errors(in value: JSONValue) -> [String] {
        var out: [String] = []
        check(value, root, "", &out)
        return out
    }

    func check(_ v: JSONValue, _ schema: JSONValue, _ path: String, _ out: inout [String]) {
        guard let s = schema.object else { out.append("\(path): schema is not an object"); return }
        for key in s.keys where !Self.keywords.contains(key) && !Self.annotations.contains(key) {
            out.append("\(path): unsupported schema keyword \(key)")
        }
        if let ref = s["$ref"]?.string {
            guard let target = resolve(ref) else { out.append("\(path): unresolved $ref \(ref)"); return }
            check(v, target, path, &out)
        }
        if let type = s["type"] {
            let allowed = type.array?.compactMap(\.string) ?? [type.string].compactMap { $0 }
            if !allowed.contains(where: { Self.matches(v, $0) }) { out.append("\(path): \(Self.describe(v)) is not \(allowed)") }
        }
        if let c = s["const"], c != v { out.append("\(path): \(Self.describe(v)) is not the constant") }
        if let e = s["enum"]?.array, !e.contains(v) { out.append("\(path): \(Self.describe(v)) is not one of the enum") }
        if let n = v.double {
            if let m = s["minimum"]?.double, n < m { out.append("\(path): \(n) < minimum \(m)") }
            if let m = s["maximum"]?.double, n > m { out.append("\(path): \(n) > maximum \(m)") }
        }
        if let o = v.object {
            for key in s["required"]?.array?.compactMap(\.string) ?? [] where o[key] == nil { out.append("\(path): missing \(key)") }
            let properties = s["properties"]?.object ?? [:]
            for (key, child) in o {
                if let p = properties[key] {
                    check(child, p, path + "/" + key, &out)
                } else if let extra = s["additionalProperties"] {
                    if extra == .bool(false) { out.append("\(path): unexpected key \(key)") } else if extra != .bool(true) {
                        check(child, extra, path + "/" + key, &out)
                    }
                }
            }
        }
        if let branches = s["anyOf"]?.array {
            // Valid if one branch holds; otherwise each branch's first complaint, so the
            // failure says why the value fits none.
            var complaints: [String] = []
            for (i, b) in branches.enumerated() {
                var e: [String] = []
                check(v, b, path, &e)
                if e.isEmpty { complaints = []; break }
                complaints.append("anyOf[\(i)]: \(e[0])")
            }
            if !complaints.isEmpty { out.append("\(path): fits no anyOf branch (\(complaints.joined(separator: "; ")))") }
        }
        if let a = v.array, let items = s["items"] {
            for (i, child) in a.enumerated() { check(child, items, "\(path)/\(i)", &out) }
        }
    }

    func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: JSONValue? = root
        for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    static func matches(_ v: JSONValue, _ type: String) -> Bool {
        switch (type, v) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
             ("string", .string), ("array", .array), ("object", .object): true
        default: false
        }
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONSchemaSubset {
    /// docs/status.schema.json of this checkout, found from this file's own path.
    public static var statusSchemaPath: String {
        "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/docs/status.schema.json"
    }

    public static func statusSchema() throws -> JSONSchemaSubset {
        JSONSchemaSubset(try JSONValue.parse(String(contentsOfFile: statusSchemaPath, encoding: .utf8)))
    }
}
