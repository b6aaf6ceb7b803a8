#if canImport(Glibc)
import Glibc
#endif

/// Gives memory freed by a large comparison back to the operating system.
///
/// glibc keeps freed heap memory in its arenas (a comparison of two 20 MB texts frees tens of
/// megabytes from a pool thread's arena), so a long-running host stays at its peak size unless
/// asked to return it. Call after the comparison's buffers are released.
public enum MemoryRelease {
    private typealias Trim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up once (it is not in the Glibc module's headers).
    nonisolated(unsafe) private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    /// Returns freed heap memory of every arena to the system (`malloc_trim(0)`; a no-op without glibc).
    public static func returnFreedMemory() {
        _ = trim?(0)
    }
}
