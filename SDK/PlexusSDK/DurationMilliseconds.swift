extension Duration {
    /// Whole milliseconds for the host's timers and deadlines: rounded up, so a positive
    /// duration never becomes 0 ("no timeout" or "at once"); negative durations are 0.
    var hostMilliseconds: UInt64 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let fraction = UInt64((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1000)
        return overflow ? UInt64.max : whole.addingReportingOverflow(fraction).overflow ? UInt64.max : whole + fraction
    }
}
