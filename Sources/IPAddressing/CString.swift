extension String {
    /// The text of a C character buffer up to its first NUL (inet_ntop's, if_indextoname's).
    public init(nulTerminated buffer: [CChar]) {
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
