/// Fewer points for a long series that still shows what matters: per bucket of consecutive
/// points, the first, the lowest, the highest and the last (in their order), so spikes,
/// collapses and the series' ends survive at any zoom level (M4 aggregation).
enum Downsampling {
    static func extremes(x: [Double?], y: [Double?], points: Int) -> ([Double?], [Double?]) {
        let n = y.count
        guard n > points, points >= 4 else { return (x, y) }
        let buckets = points / 4
        var ox: [Double?] = []
        var oy: [Double?] = []
        ox.reserveCapacity(points)
        oy.reserveCapacity(points)
        for b in 0..<buckets {
            let lo = b * n / buckets
            let hi = (b + 1) * n / buckets
            guard lo < hi else { continue }
            var minI = -1
            var maxI = -1
            for i in lo..<hi {
                guard let v = y[i] else { continue }
                if minI < 0 || v < y[minI]! { minI = i }
                if maxI < 0 || v > y[maxI]! { maxI = i }
            }
            var keep = [lo, hi - 1]
            if minI >= 0 { keep.append(minI) }
            if maxI >= 0 { keep.append(maxI) }
            var last = -1
            for i in keep.sorted() where i != last {
                ox.append(x[i])
                oy.append(y[i])
                last = i
            }
        }
        return (ox, oy)
    }
}
