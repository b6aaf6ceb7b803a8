import CLibUV
import Glibc

/// Wall-clock time derived from `uv_hrtime()`, which the request path reads anyway to time each
/// request: the realtime clock is read at most once a second, not once per record (as nginx
/// caches its time per loop iteration). Between two reads the time runs at the monotonic clock's
/// rate, so a step of the system clock shows in the log within a second.
struct WallClockFromMonotonic {
    private var realtimeBase: Int64 = 0
    private var monotonicBase: UInt64 = 0

    init() { resynchronise() }

    /// Reads both clocks again.
    mutating func resynchronise() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        monotonicBase = uv_hrtime()
        realtimeBase = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// The wall-clock time at `hrtime` (`uv_hrtime()` nanoseconds), reading the realtime clock
    /// again when the last read is a second old.
    mutating func wallTime(at hrtime: UInt64) -> timespec {
        if hrtime &- monotonicBase >= 1_000_000_000 && hrtime > monotonicBase { resynchronise() }
        let elapsed = hrtime >= monotonicBase ? Int64(clamping: hrtime - monotonicBase) : -Int64(clamping: monotonicBase - hrtime)
        let nanoseconds = realtimeBase &+ elapsed
        return timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }
}
