#if canImport(Glibc)
import Glibc
#endif
import FuzzHarnesses

#if TANDEM_LIBFUZZER
// Built by scripts/fuzz with -sanitize=fuzzer,address: libFuzzer owns main and calls
// these. The target comes from FUZZ_TARGET, since libFuzzer's argv is its own.
nonisolated(unsafe) var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget.named(name) else {
        warn("tandem-fuzz: set FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: " "))\n")
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected?.run(bytes)
    return 0
}
#else
@main
struct FuzzCommand {
    static func main() {
        exit(StandaloneRunner.main(Array(CommandLine.arguments.dropFirst())))
    }
}
#endif
