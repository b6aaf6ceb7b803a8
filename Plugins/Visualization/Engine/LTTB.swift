/// Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the first and last points and,
/// from each of `threshold - 2` equal buckets, the point forming the largest triangle with the previous
/// kept point and the next bucket's average; the shape of the series survives at pixel resolution.
public enum LTTB {
    /// Indices into `xs`/`ys` of at most `threshold` points (all of them when there are not more).
    public static func downsample(xs: [Double], ys: [Double], threshold: Int) -> [Int] {
        let count = xs.count
        guard threshold >= 3, count > threshold else { return Array(0..<count) }
        var kept = [0]
        kept.reserveCapacity(threshold)
        let every = Double(count - 2) / Double(threshold - 2)
        var a = 0
        for bucket in 0..<(threshold - 2) {
            let nextStart = Int(Double(bucket + 1) * every) + 1
            let nextEnd = min(count, Int(Double(bucket + 2) * every) + 1)
            var avgX = 0.0, avgY = 0.0
            let nextCount = max(1, nextEnd - nextStart)
            for i in nextStart..<max(nextStart, nextEnd) { avgX += xs[i]; avgY += ys[i] }
            if nextEnd > nextStart { avgX /= Double(nextCount); avgY /= Double(nextCount) } else { avgX = xs[count - 1]; avgY = ys[count - 1] }
            let start = Int(Double(bucket) * every) + 1
            let end = min(count - 1, Int(Double(bucket + 1) * every) + 1)
            var best = start, bestArea = -1.0
            let (ax, ay) = (xs[a], ys[a])
            for i in start..<max(start + 1, end) {
                let area = abs((ax - avgX) * (ys[i] - ay) - (ax - xs[i]) * (avgY - ay))
                if area > bestArea { bestArea = area; best = i }
            }
            kept.append(best)
            a = best
        }
        kept.append(count - 1)
        return kept
    }
}
