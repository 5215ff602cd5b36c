import DNNProvModel
import DNNProvStore
import Logging

extension ProvStore {
    /// Opens the store on PostgreSQL (`postgresql://user[:password]@host[:port]/database`),
    /// creating or updating its schema. `queryURL`: where user queries run (a read replica).
    /// `readOnly`: no migration, no writer.
    public convenience init(postgresURL: String, queryURL: String? = nil, readOnly: Bool = false,
                            queryPool: QueryPoolConfiguration = .init(), logger: Logger = Logger(label: "dnnprov.store")) throws {
        let engine = try PostgresEngine(url: PostgresURL(postgresURL), queryURL: queryURL.map { try PostgresURL($0) },
                                        readOnly: readOnly, queryPool: queryPool, logger: logger)
        self.init(engine: engine, logger: logger)
    }

    /// Opens the store a `--db` value names: a PostgreSQL URL, or else the path of a SQLite file.
    public static func open(_ database: String, queryDatabase: String? = nil, readOnly: Bool = false,
                            queryPool: QueryPoolConfiguration = .init(), logger: Logger = Logger(label: "dnnprov.store")) throws -> ProvStore {
        if PostgresURL.isPostgresURL(database) {
            return try ProvStore(postgresURL: database, queryURL: queryDatabase, readOnly: readOnly, queryPool: queryPool, logger: logger)
        }
        guard queryDatabase == nil else { throw ProvError.badRequest("--query-db is for PostgreSQL (a read replica); this database is a SQLite file") }
        return try ProvStore(path: database, readOnly: readOnly, queryPool: queryPool, logger: logger)
    }
}
