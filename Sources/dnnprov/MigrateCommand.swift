import ArgumentParser
import DNNProvPostgres
import DNNProvStore
import Foundation

/// `dnnprov migrate --from A --to B`: copies a whole store between SQLite files and PostgreSQL
/// databases, in either direction. Interrupted (even by kill -9), the same command again goes
/// on from the last chunk committed in the target.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a whole store between SQLite and PostgreSQL (resumable).",
        discussion: """
            Copies every dataflow, run, task and row, with their ids, into an empty target (a SQLite \
            file, created when missing, or a postgresql:// URL of an empty database). Stop the servers \
            writing to the source first. If the copy is interrupted, run the same command again: it \
            resumes where the target's last commit left it. Progress goes to stderr.
            """)

    @Option(help: "The store to copy: a SQLite file or a postgresql:// URL.") var from: String
    @Option(help: "Where to copy it: a SQLite file or a postgresql:// URL of an empty database.") var to: String
    @Option(help: "Rows per transaction in the target.") var batchRows: Int = 5_000
    @Option(help: ArgumentHelp("Seconds between progress lines when stderr is not a terminal.", visibility: .hidden))
    var progressInterval: Double = 2

    func validate() throws {
        if batchRows < 1 { throw ValidationError("--batch-rows must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors {
            // Read-only: the source is not migrated or written, and a missing file is an error
            // rather than a new empty store.
            let source = try ProvStore.open(from, readOnly: true, logger: .quiet)
            defer { source.close() }
            let target = try ProvStore.open(to, logger: .quiet)
            defer { target.close() }
            let display = MigrationDisplay(terminal: isatty(STDERR_FILENO) != 0, interval: progressInterval)
            let migration = StoreMigration(from: source, to: target, chunkRows: batchRows) { display.update($0) }
            let summary: MigrationSummary
            do {
                summary = try await migration.run()
            } catch {
                display.end()
                throw error
            }
            display.end()
            let resumed = summary.resumedTables > 0 ? " (\(summary.resumedTables) already copied by an earlier run)" : ""
            print("""
                migrated \(source.location) -> \(target.location): \(summary.dataflows) dataflow(s), \
                \(summary.tables) tables\(resumed), \(summary.rows) rows; \(summary.copiedThisRun) copied now \
                in \(String(format: "%.1f", summary.seconds)) s (\(Int(summary.rate)) rows/s)
                """)
        }
    }
}
