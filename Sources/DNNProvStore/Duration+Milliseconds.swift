extension Duration {
    /// The duration in milliseconds, fractions included (query timings, PostgreSQL's settings).
    package var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
