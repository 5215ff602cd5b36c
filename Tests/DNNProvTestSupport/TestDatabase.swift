import DNNProvPostgres
import DNNProvStore
import Foundation
import Logging
import DNNProvTestSupport

/// The database a test runs on, fresh for each test, and a scratch folder beside it.
///
/// The backend is chosen for the whole run: `DNNPROV_TEST_BACKEND=postgres` with
/// `DNNPROV_TEST_POSTGRES_URL` (a server URL whose user may create databases) runs every store
/// and API test on a new PostgreSQL database; otherwise each test gets a SQLite file. `scripts/test`
/// runs the suite both ways. Tests read results through the store and the API, never through a
/// backend's catalog, so the same test checks both.
public final class TestDatabase: @unchecked Sendable {
    public enum Backend: String, Sendable { case sqlite, postgres }

    /// The backend of this run.
    public static let backend: Backend = {
        let raw = ProcessInfo.processInfo.environment["DNNPROV_TEST_BACKEND"] ?? "sqlite"
        guard let b = Backend(rawValue: raw) else { fatalError("DNNPROV_TEST_BACKEND is '\(raw)': use sqlite or postgres") }
        if b == .postgres && postgresServer == nil { fatalError("DNNPROV_TEST_BACKEND=postgres needs DNNPROV_TEST_POSTGRES_URL") }
        return b
    }()

    /// The PostgreSQL server of PostgreSQL-only tests (nil: they are skipped).
    public static let postgresServer: String? = {
        let url = ProcessInfo.processInfo.environment["DNNPROV_TEST_POSTGRES_URL"] ?? ""
        return url.isEmpty ? nil : url
    }()

    /// A scratch folder, removed at the end of the test.
    public let directory: URL
    /// What `--db` and `ProvStore.open` take: the SQLite file's path or the PostgreSQL URL.
    public let location: String
    private let postgresName: String?

    /// A new, empty database of `backend` (the run's by default).
    public init(backend: Backend = TestDatabase.backend) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dnnprov-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            location = directory.appendingPathComponent("prov.sqlite").path
            postgresName = nil
        case .postgres:
            guard let server = Self.postgresServer else { throw TestDatabaseError.noPostgres }
            let name = "dnnprov_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            try Self.admin(server) { try $0.simple("CREATE DATABASE \(name)") }
            location = Self.url(server, database: name)
            postgresName = name
        }
    }

    deinit {
        if let name = postgresName, let server = Self.postgresServer {
            try? Self.admin(server) { try $0.simple("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Whether this test runs on PostgreSQL.
    public var isPostgres: Bool { postgresName != nil }

    /// The store on this database.
    public func open(readOnly: Bool = false) throws -> ProvStore {
        try ProvStore.open(location, readOnly: readOnly, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// A path in the scratch folder.
    public func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private static func admin(_ server: String, _ body: (PGConnection) throws -> Void) throws {
        let connection = try PGConnection.connect(url: PostgresURL(server))
        defer { connection.close() }
        try body(connection)
    }

    /// `server` with its database replaced.
    static func url(_ server: String, database: String) -> String {
        var base = server
        var query = ""
        if let q = base.firstIndex(of: "?") {
            query = String(base[q...])
            base = String(base[..<q])
        }
        let scheme = base.range(of: "://").map { base.index($0.upperBound, offsetBy: 0) } ?? base.startIndex
        if let slash = base[scheme...].firstIndex(of: "/") { base = String(base[..<slash]) }
        return base + "/" + database + query
    }
}

public enum TestDatabaseError: Error, CustomStringConvertible {
    case noPostgres
    public var description: String { "DNNPROV_TEST_POSTGRES_URL is not set" }
}
