import CPlexusABI
import Glibc
import PlexusStorage

/// The `plexus_status` behind `host->last_status` (ABI 1.4): per thread, like errno.
///
/// Every host function sets it before it returns (``PLEXUS_OK`` on success), and the runtime
/// sets it to the outcome a completion reports just before it calls the plugin's `done`,
/// `reply`, `after` or publish callback. Older plugins never read it and keep working from the
/// return values and messages of ABI 1.0-1.3.
enum HostCallStatus {
    /// One slot per thread; the value is the code itself, stored as a pointer's bit pattern.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed: no thread-local slot for host->last_status")
        return key
    }()

    /// This thread's last status.
    static var current: Int32 {
        Int32(truncatingIfNeeded: Int(bitPattern: pthread_getspecific(key)))
    }

    /// Sets this thread's status.
    static func set(_ status: plexus_status) {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: Int(status.rawValue)))
    }

    /// The code a storage failure of `kind` is reported with.
    static func code(for kind: StorageError.Kind) -> plexus_status {
        switch kind {
        // A database that is down, too slow or conflicting with another transaction: try again later (503).
        case .busy, .unavailable, .timeout, .serializationFailure: PLEXUS_E_STORAGE_BUSY
        case .diskFull: PLEXUS_E_STORAGE_DISK_FULL
        case .corrupt: PLEXUS_E_STORAGE_CORRUPT
        case .constraint: PLEXUS_E_STORAGE_CONSTRAINT
        case .misuse: PLEXUS_E_STORAGE_MISUSE
        case .denied: PLEXUS_E_STORAGE_DENIED
        case .conflict: PLEXUS_E_STORAGE_CONFLICT
        case .notFound: PLEXUS_E_STORAGE_NOT_FOUND
        case .closed: PLEXUS_E_STORAGE_CLOSED
        case .io, .cantOpen: PLEXUS_E_STORAGE_IO
        case .invalidMigration: PLEXUS_E_STORAGE_INVALID_MIGRATION
        case .aborted: PLEXUS_E_STORAGE_ABORTED
        default: PLEXUS_E_STORAGE_OTHER
        }
    }
}

/// A host call's refusal: the code a plugin reads with `last_status`, and the message for people.
struct HostCallFailure: Error, CustomStringConvertible {
    let status: plexus_status
    let description: String

    init(_ status: plexus_status, _ description: String) {
        self.status = status
        self.description = description
    }
}
