import Dispatch

/// Monotonic time in seconds (internal).
@inline(__always) func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
