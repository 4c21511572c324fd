#if canImport(Glibc)
import Glibc
#endif

/// "1.5", "8": seconds as a user typed them, without Foundation's formatters.
func formatSeconds(_ s: Double) -> String {
    if s == s.rounded() { return String(Int(s)) }
    return String((s * 1000).rounded() / 1000)
}

/// Milliseconds as a signed integer string, "+123" / "-40".
func formatRelativeMilliseconds(_ seconds: Double) -> String {
    let ms = Int((seconds * 1000).rounded())
    return ms >= 0 ? "+\(ms)" : "\(ms)"
}

func errnoText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return String(cString: s)
}

/// Left- or right-aligned column text for the report tables.
func padded(_ s: String, _ width: Int, right: Bool = false) -> String {
    let n = s.count
    guard n < width else { return s }
    let pad = String(repeating: " ", count: width - n)
    return right ? pad + s : s + pad
}
