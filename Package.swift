// swift-tools-version:6.1
import PackageDescription

// The per-flow decode path crosses Netlink → Conntrack; without cross-module optimization
// every attribute read is an unspecialized call.
let crossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .library(name: "Netlink", targets: ["Netlink"]),
        .library(name: "Conntrack", targets: ["Conntrack"]),
        .library(name: "StateSync", targets: ["StateSync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // --metrics-listen: swift-metrics as the API the daemons write to, swift-prometheus
        // as its backend and text format, Hummingbird (on swift-nio) as the HTTP server.
        // Hummingbird's default traits (swift-configuration support, full Foundation) serve
        // nothing here and cost build time: off (the `traits:` argument needs tools 6.1).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "Netlink", dependencies: ["CLinux"], swiftSettings: crossModule),
        // IP addresses and the numbers every layer shares (families, protocols): the one thing
        // VRRP, the config grammars and conntrack have in common.
        .target(name: "IPAddressing", swiftSettings: crossModule),
        // The one time type: instants on the monotonic clock the loops read, spans as Duration.
        .target(name: "Timekeeping", swiftSettings: crossModule),
        .target(name: "Conntrack", dependencies: ["Netlink", "IPAddressing"], swiftSettings: crossModule),
        // The sync engines are generic over the daemon's key: without it every per-flow
        // call into them is unspecialized (metadata look-ups, value-witness copies).
        // Sync authentication's HMAC-SHA-256 comes from swift-crypto.
        .target(name: "StateSync", dependencies: ["Conntrack", "IPAddressing", "Timekeeping", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: crossModule),
        .target(name: "ConfigParsing", dependencies: ["Conntrack", "IPAddressing", "Netlink"]),
        // AH's HMAC-MD5-96 comes from swift-crypto.
        .target(name: "VRRP", dependencies: ["IPAddressing", "Timekeeping", .product(name: "Crypto", package: "swift-crypto")]),
        // The daemon's loop is a class whose caches and engine are touched per flow; the
        // run-time exclusivity checks on those accesses (a thread-local access set each)
        // were 3% of the sender's CPU. Debug builds, which the tests run, keep them.
        // The sockets: VRRP's raw IP socket and its GARP / NA sender, the sync channels
        // (UDP, multicast, TCP) and the link that carries them.
        .target(name: "LinkIO", dependencies: ["CLinux", "IPAddressing", "Timekeeping", "VRRP", "StateSync", "ConfigParsing"]),
        .target(name: "Daemon", dependencies: ["CLinux", "IPAddressing", "Timekeeping", "Netlink", "Conntrack", "StateSync", "ConfigParsing", "VRRP", "LinkIO",
                                               .product(name: "Logging", package: "swift-log"),
                                               .product(name: "Histogram", package: "hdrhistogram-swift"),
                                               .product(name: "CoreMetrics", package: "swift-metrics")],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // `/metrics` over HTTP: the only module with a server library in it.
        .target(name: "MetricsEndpoint", dependencies: ["Daemon",
                                                        .product(name: "CoreMetrics", package: "swift-metrics"),
                                                        .product(name: "Prometheus", package: "swift-prometheus"),
                                                        .product(name: "Hummingbird", package: "hummingbird"),
                                                        .product(name: "NIOCore", package: "swift-nio"),
                                                        .product(name: "NIOPosix", package: "swift-nio"),
                                                        .product(name: "Logging", package: "swift-log")]),
        .target(name: "Lab", dependencies: ["IPAddressing", "Netlink", "Conntrack"]),
        .target(
            name: "TandemCLI",
            dependencies: [
                "IPAddressing", "Timekeeping", "Netlink", "Conntrack", "ConfigParsing", "StateSync", "LinkIO", "Daemon", "Lab", "MetricsEndpoint",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "tandem", dependencies: ["TandemCLI"]),
        // One harness per decoder reachable from outside (issue #15): driven by tandem-fuzz,
        // by libFuzzer (scripts/fuzz) and by the corpus replay test.
        .target(name: "FuzzHarnesses", dependencies: ["IPAddressing", "Timekeeping", "Netlink", "Conntrack", "StateSync", "ConfigParsing", "VRRP", "LinkIO", "Daemon"]),
        .executableTarget(name: "tandem-fuzz", dependencies: ["FuzzHarnesses"]),
        .executableTarget(name: "conntrack-bench", dependencies: ["IPAddressing", "Conntrack", "Netlink", "Daemon", "StateSync", "TestSupport", .product(name: "Crypto", package: "swift-crypto")], path: "bench/ConntrackBench"),
        .target(name: "TestSupport", dependencies: ["Netlink", "Conntrack", "IPAddressing", "Timekeeping"], path: "Tests/TestSupport"),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "CLinux", "TestSupport"]),
        .testTarget(name: "IPAddressingTests", dependencies: ["IPAddressing"]),
        .testTarget(name: "TimekeepingTests", dependencies: ["Timekeeping"]),
        .testTarget(name: "LinkIOTests", dependencies: ["LinkIO", "Timekeeping", "TestSupport", "ConfigParsing", "StateSync"]),
        .testTarget(name: "ConntrackTests", dependencies: ["Conntrack", "IPAddressing", "Netlink", "CLinux", "TestSupport"], exclude: ["Vectors"]),
        .testTarget(name: "ConfigParsingTests", dependencies: ["ConfigParsing", "Conntrack", "IPAddressing", "TestSupport"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP", "Timekeeping", "IPAddressing", "TestSupport"]),
        .testTarget(name: "StateSyncTests", dependencies: ["StateSync", "Timekeeping", "Conntrack", "IPAddressing", "TestSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Timekeeping", "Conntrack", "IPAddressing", "Netlink", "StateSync", "LinkIO", "TestSupport"]),
        .testTarget(name: "FuzzHarnessesTests", dependencies: ["FuzzHarnesses"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "TestSupport"]),
        .testTarget(name: "MetricsEndpointTests", dependencies: ["MetricsEndpoint", "Daemon", "StateSync", "Timekeeping", "LinkIO", "TestSupport",
                                                             .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "TandemCLITests", dependencies: ["TandemCLI", "Timekeeping", "Daemon", "Conntrack", "IPAddressing", "Netlink", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["IPAddressing", "Conntrack", "Netlink", "TandemCLI", "TestSupport", "VRRP", "LinkIO",
                                                          .product(name: "Logging", package: "swift-log")]),
    ]
)
