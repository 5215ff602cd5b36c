// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Tests read HTTP statuses and the like through many modules; member import visibility would
// only add imports there.
let testSwiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .swiftLanguageMode(.v5)]

let package = Package(
    name: "dnnprov",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dnnprov", targets: ["dnnprov"]),
        .library(name: "DNNProvClient", targets: ["DNNProvClient"]),
    ],
    dependencies: [
        // ConfigurationSupport is left out: we configure through the CLI, and it saves a dependency build.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // TLS trust roots of the client (a private CA for https servers); already built for async-http-client.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.2"),
        // SHA-256 of API tokens; already built for async-http-client's TLS stack.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // The PostgreSQL backend (several servers on one database).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Layer 1: the PROV-Df model. Pure values and validation, no I/O.
        .target(name: "DNNProvModel", swiftSettings: swiftSettings),
        // sqlite3_db_config is variadic: this C shim turns off what user queries must not reach.
        .target(name: "CSQLiteHardening", linkerSettings: [.linkedLibrary("sqlite3")]),
        // zlib (the system's), for gzip-compressed answers: the runs table of 10,000 runs is 16 MB of JSON.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Layer 2: the store. Schema management, ingestion and queries on SQLite (GRDB).
        .target(
            name: "DNNProvStore",
            dependencies: [
                "DNNProvModel", "CSQLiteHardening",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 2b: the PostgreSQL backend of the store, behind the same interface.
        .target(
            name: "DNNProvPostgres",
            dependencies: [
                "DNNProvModel", "DNNProvStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 3: the HTTP server (DfAnalyzer protocol and /api/v1).
        .target(
            name: "DNNProvServer",
            dependencies: [
                "DNNProvModel", "DNNProvStore", "DNNProvPostgres", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 4: the Swift client library (non-blocking capture, spool, replay) and the HTTP query client.
        .target(
            name: "DNNProvClient",
            dependencies: [
                "DNNProvModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 5: the command line.
        .executableTarget(
            name: "dnnprov",
            dependencies: [
                "DNNProvModel", "DNNProvStore", "DNNProvPostgres", "DNNProvServer", "DNNProvClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The ingestion and query benchmarks (benchmarks/README.md); run with `swift run -c release dnnprov-bench`.
        .executableTarget(
            name: "dnnprov-bench",
            dependencies: [
                "DNNProvModel", "DNNProvStore", "DNNProvPostgres", "DNNProvServer", "DNNProvClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "benchmarks/DNNProvBench",
            swiftSettings: swiftSettings
        ),
        // A small program instrumented with the Swift client.
        .executableTarget(
            name: "swift-client-example",
            dependencies: ["DNNProvClient"],
            path: "examples/SwiftClientExample",
            swiftSettings: swiftSettings
        ),
        // What every test target uses: the test's database on the backend of the run.
        .target(
            name: "DNNProvTestSupport",
            dependencies: ["DNNProvStore", "DNNProvPostgres", .product(name: "Logging", package: "swift-log")],
            path: "Tests/DNNProvTestSupport",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(name: "DNNProvModelTests", dependencies: ["DNNProvModel"], swiftSettings: testSwiftSettings),
        .testTarget(name: "DNNProvStoreTests", dependencies: ["DNNProvStore", "DNNProvPostgres", "DNNProvModel", "DNNProvTestSupport"], swiftSettings: testSwiftSettings),
        .testTarget(
            name: "DNNProvServerTests",
            dependencies: [
                "DNNProvServer", "DNNProvStore", "DNNProvPostgres", "DNNProvModel", "DNNProvClient", "DNNProvTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            // Read by #filePath, not as bundle resources.
            exclude: ["Fixtures"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "DNNProvClientTests",
            dependencies: [
                "DNNProvClient", "DNNProvServer", "DNNProvStore", "DNNProvPostgres", "DNNProvModel", "DNNProvTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ]
)
