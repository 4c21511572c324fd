// swift-tools-version:6.0
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
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "Netlink", dependencies: ["CLinux"], swiftSettings: crossModule),
        .target(name: "Conntrack", dependencies: ["Netlink"], swiftSettings: crossModule),
        // The sync engines are generic over the daemon's key: without it every per-flow
        // call into them is unspecialized (metadata look-ups, value-witness copies).
        .target(name: "StateSync", dependencies: ["Conntrack"], swiftSettings: crossModule),
        .target(name: "ConfigParsing", dependencies: ["Conntrack"]),
        .target(name: "VRRP", dependencies: ["Conntrack"]),
        // The daemon's loop is a class whose caches and engine are touched per flow; the
        // run-time exclusivity checks on those accesses (a thread-local access set each)
        // were 3% of the sender's CPU. Debug builds, which the tests run, keep them.
        .target(name: "Daemon", dependencies: ["CLinux", "Netlink", "Conntrack", "StateSync", "ConfigParsing", "VRRP"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(name: "Lab", dependencies: ["Netlink", "Conntrack"]),
        .target(
            name: "TandemCLI",
            dependencies: [
                "Netlink", "Conntrack", "ConfigParsing", "StateSync", "Daemon", "Lab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "tandem", dependencies: ["TandemCLI"]),
        .executableTarget(name: "conntrack-bench", dependencies: ["Conntrack", "Netlink", "Daemon"], path: "bench/ConntrackBench"),
        .target(name: "TestSupport", dependencies: ["Netlink"], path: "Tests/TestSupport"),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "CLinux", "TestSupport"]),
        .testTarget(name: "ConntrackTests", dependencies: ["Conntrack", "Netlink", "CLinux", "TestSupport"], exclude: ["Vectors"]),
        .testTarget(name: "ConfigParsingTests", dependencies: ["ConfigParsing", "Conntrack", "TestSupport"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP", "Conntrack", "TestSupport"]),
        .testTarget(name: "StateSyncTests", dependencies: ["StateSync", "Conntrack", "TestSupport"]),
        .testTarget(name: "TandemCLITests", dependencies: ["TandemCLI", "Daemon", "Conntrack", "Netlink", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Conntrack", "Netlink", "TandemCLI", "TestSupport", "VRRP"]),
    ]
)
