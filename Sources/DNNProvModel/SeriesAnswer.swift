/// The answer of `GET /api/v1/dataflows/{tag}/series`: attributes of a set along one axis, one
/// series per run and attribute, downsampled on the server past `points` points.
public struct SeriesAnswer: Sendable, Codable, Equatable {
    public struct Series: Sendable, Codable, Equatable {
        /// The run (execution id) and its tag.
        public var run: Int64
        public var execution: String
        /// The attribute drawn.
        public var y: String
        /// Rows of the run in the set (before downsampling).
        public var count: Int
        /// Whether `x`/`y` hold fewer points than `count` (first, min, max, last of each bucket).
        public var downsampled: Bool
        /// The highest row id included: live rows with a higher id are new.
        public var lastID: Int64?
        public var x: [Double?]
        /// Values that are not finite (or not numbers) are null.
        public var values: [Double?]

        public init(run: Int64, execution: String, y: String, count: Int, downsampled: Bool, lastID: Int64?, x: [Double?], values: [Double?]) {
            self.run = run
            self.execution = execution
            self.y = y
            self.count = count
            self.downsampled = downsampled
            self.lastID = lastID
            self.x = x
            self.values = values
        }

        enum CodingKeys: String, CodingKey {
            case run, execution, count, downsampled, x
            case y = "attribute", lastID = "last_id", values = "y"
        }
    }

    public var set: String
    /// The x attribute, or nil for the row's position in the run (1, 2, ...).
    public var x: String?
    public var series: [Series]

    public init(set: String, x: String?, series: [Series]) {
        self.set = set
        self.x = x
        self.series = series
    }
}
