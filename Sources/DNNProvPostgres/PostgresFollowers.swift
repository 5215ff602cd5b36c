import DNNProvModel
import DNNProvStore
import Foundation
import NIOConcurrencyHelpers

/// Which dataflows someone follows live on any server. The writer makes `rows` events only for
/// followed dataflows; with several servers, the one storing the rows is often not the one the
/// page follows, so each server records its followers in `live_follow` (for a minute, renewed)
/// and every writer reads the table at the start of its turn.
final class PostgresFollowers: Sendable {
    /// How long a recorded follow lasts; renewed when the dataflow is read or followed again.
    static let lifetime: Double = 90
    private let recorded = NIOLockedValueBox<[Int64: Double]>([:])

    /// Records that `dataflow` is followed here, at most every `lifetime / 3`. `record` runs the
    /// upsert (off the caller's thread).
    func follow(_ dataflow: Int64, record: @escaping @Sendable (String, SQLArguments) -> Void) {
        let now = Date().timeIntervalSince1970
        let due = recorded.withLockedValue { r -> Bool in
            if let at = r[dataflow], now - at < Self.lifetime / 3 { return false }
            r[dataflow] = now
            return true
        }
        guard due else { return }
        record("""
            INSERT INTO live_follow(df_id, until) VALUES (?, ?)
            ON CONFLICT (df_id) DO UPDATE SET until = greatest(live_follow.until, excluded.until)
            """, [dataflow, now + Self.lifetime])
    }

    /// The dataflows followed on any server now.
    func followed(_ db: any SQLDatabase) throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT df_id FROM live_follow WHERE until > ?", arguments: [Date().timeIntervalSince1970]))
    }
}
