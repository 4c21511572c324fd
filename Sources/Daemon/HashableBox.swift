/// A value held once and shared by reference, compared and hashed by value: keys whose
/// rare large forms (IPv6 tuples, expectations) would otherwise make every copy of the
/// key as large as they are.
final class HashableBox<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
    static func == (a: HashableBox, b: HashableBox) -> Bool { a === b || a.value == b.value }
    func hash(into h: inout Hasher) { h.combine(value) }
}
