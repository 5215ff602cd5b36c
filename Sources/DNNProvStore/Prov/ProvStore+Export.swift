import DNNProvModel
import Foundation

/// A resolved export, ready to stream (scope checked: unknown names were refused already).
public struct ProvExportJob: Sendable {
    let store: ProvStore
    let scope: ProvExportScope
    public let format: ProvFormat
    /// Bytes per chunk handed to the sink.
    public static let chunkSize = 64 << 10

    /// Writes the document to `sink` chunk by chunk, in one read transaction, synchronously.
    /// Memory stays bounded by the chunk size whatever the document's size. Call it off the
    /// async executor (a thread of its own); `sink` may block (back-pressure) or throw (stop).
    public func write(to sink: @escaping @Sendable ([UInt8]) throws -> Void) throws -> ProvExportStats {
        let scope = self.scope
        let format = self.format
        // The store's reads are async, their bodies synchronous on a reader's thread (never the
        // async executor's): this thread waits while the body streams there, and `sink`
        // blocking holds that reader, as a dedicated connection was held before.
        let result = LockedValue<Result<ProvExportStats, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let store = self.store
        Task {
            do {
                result.set(.success(try await store.read { db in try Self.export(db, scope: scope, format: format, to: sink) }))
            } catch {
                result.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        return try result.get()!.get()
    }

    private static func export(_ db: any SQLDatabase, scope: ProvExportScope, format: ProvFormat,
                               to sink: @escaping ([UInt8]) throws -> Void) throws -> ProvExportStats {
        var stats = ProvExportStats()
        var writer = makeWriter(format)
        var out: [UInt8] = []
        out.reserveCapacity(Self.chunkSize + 4096)
        writer.begin(ProvNamespaces(dataflow: scope.dataflow.tag), into: &out)
        try ProvExporter(db: db, scope: scope) { record in
            switch record.kind {
            case .entity: stats.entities += 1
            case .activity: stats.activities += 1
            case .agent: stats.agents += 1
            default: stats.relations += 1
            }
            writer.write(record, into: &out)
            if out.count >= Self.chunkSize {
                stats.bytes += out.count
                try sink(out)
                out.removeAll(keepingCapacity: true)
            }
        }.run()
        writer.end(into: &out)
        stats.bytes += out.count
        if !out.isEmpty { try sink(out) }
        return stats
    }

    /// The document as an async sequence of chunks, produced on a thread of its own with at most
    /// a few chunks in flight: a slow reader slows the export, never grows memory.
    public func chunks() -> ProvChunks {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream(bufferingPolicy: .unbounded)
        let credits = DispatchSemaphore(value: 4)
        let cancelled = LockedValue(false)
        continuation.onTermination = { _ in
            cancelled.set(true)
            for _ in 0..<8 { credits.signal() }
        }
        let job = self
        let thread = Thread {
            do {
                _ = try job.write { chunk in
                    credits.wait()
                    if cancelled.get() { throw CancellationError() }
                    continuation.yield(chunk)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
        return ProvChunks(stream: stream, credits: credits)
    }
}

extension ProvStore {
    /// Prepares an export of `dataflow` (all of it, one execution, or one task): checks the
    /// names and returns a job that streams the document.
    public func provExport(_ dataflow: String, scope: ProvScope, format: ProvFormat) async throws -> ProvExportJob {
        let df = try catalog.dataflow(Identifier.normalizeDataflow(dataflow))
        let (exec, task) = try await read { db -> (Int64?, Int64?) in
            var exec: Int64?
            if let e = scope.execution {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM dataflow_execution WHERE df_id = ? AND tag = ?", arguments: [df.id, e]) else {
                    throw ProvError.notFound("unknown execution '\(e.clipped())' in dataflow '\(df.tag)'")
                }
                exec = id
            }
            if let t = scope.task {
                guard let e = try Int64.fetchOne(db, sql: """
                    SELECT t.df_exec FROM task t JOIN dataflow_execution e ON e.id = t.df_exec WHERE t.id = ? AND e.df_id = ?
                    """, arguments: [t, df.id]) else {
                    throw ProvError.notFound("no task \(t) in dataflow '\(df.tag)'")
                }
                if let exec, exec != e { throw ProvError.notFound("task \(t) is not in execution '\(scope.execution!.clipped())'") }
            }
            return (exec, scope.task)
        }
        return ProvExportJob(store: self, scope: ProvExportScope(dataflow: df, execution: exec, task: task), format: format)
    }
}

/// The chunks of an export; taking one lets the producer make the next.
public struct ProvChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let stream: AsyncThrowingStream<[UInt8], any Error>
    let credits: DispatchSemaphore

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let credits: DispatchSemaphore
        public mutating func next() async throws -> [UInt8]? {
            let chunk = try await base.next()
            if chunk != nil { credits.signal() }
            return chunk
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator(), credits: credits) }
}
