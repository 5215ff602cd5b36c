/// What a client has done so far (for benchmarks and monitoring).
public struct ClientStats: Sendable {
    /// Events handed to the client (`enqueue`, task handles).
    public var eventsEnqueued: Int = 0
    /// Events the server acknowledged (stored, or skipped as already stored).
    public var eventsAcknowledged: Int = 0
    /// Of those, events the server had already stored (a replay after a lost acknowledgement).
    public var duplicates: Int = 0
    /// Attribute values in the acknowledged events' rows.
    public var valuesAcknowledged: Int = 0
    /// Events dropped because the server refused them (4xx); each one was logged.
    public var eventsDropped: Int = 0
    /// Batch requests acknowledged.
    public var batchesAcknowledged: Int = 0
    /// Dataflow registrations acknowledged.
    public var dataflowsRegistered: Int = 0
    /// Failed deliveries (unreachable, 5xx, 429) whose data went to the spool.
    public var deliveryFailures: Int = 0
    /// Records written to the spool (failed deliveries, buffer overflows, adopted records).
    public var recordsSpooled: Int = 0
    /// Seconds between sending a batch and its acknowledgement, in order (the last 100,000).
    public var acknowledgementLatencies: [Double] = []

    public init() {}
}

/// One acknowledged batch, as given to `ClientConfiguration.onBatchAcknowledged`.
public struct BatchAcknowledgement: Sendable {
    public var events: Int
    public var values: Int
    public var duplicates: Int
    /// Seconds from sending the request to its answer.
    public var latency: Double
}
