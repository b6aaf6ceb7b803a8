import Glibc

/// The wall-clock time in seconds since 1970, as `Date().timeIntervalSince1970` gives it, read
/// straight from the realtime clock: the request path reads it up to three times per request
/// (screening, the resilience guards, their release), and `Date` adds a conversion through its
/// reference date to every read.
enum WallClockSeconds {
    /// Now, in seconds since 1970.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000
    }
}
