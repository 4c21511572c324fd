import TandemCLI
#if canImport(Glibc)
import Glibc
#endif

exit(Entry.main(CommandLine.arguments))
