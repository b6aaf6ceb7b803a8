import CPlexusABI

/// What a host call reported, as the runtime's `plexus_status` code (ABI 1.4): the error
/// convention of every host call, never text to be parsed.
///
/// Thrown errors carry it (``PluginError/status``, ``StorageFailure/status``); compare with
/// the static members. A runtime older than ABI 1.4 reports no code: then the status is nil.
public struct HostStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C code (`plexus_status`).
    public let rawValue: Int32

    /// Wraps a C code.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    init(_ status: plexus_status) { rawValue = Int32(bitPattern: status.rawValue) }

    /// Success.
    public static let ok = HostStatus(PLEXUS_OK)
    /// A failure without a more precise code.
    public static let error = HostStatus(PLEXUS_ERROR)
    /// An argument is missing, malformed or out of range.
    public static let invalidArgument = HostStatus(PLEXUS_E_INVALID_ARGUMENT)
    /// Not allowed in the plugin's current state (e.g. a route added after start).
    public static let wrongState = HostStatus(PLEXUS_E_WRONG_STATE)
    /// The name is taken (a route, a service, a metric of another shape).
    public static let alreadyExists = HostStatus(PLEXUS_E_ALREADY_EXISTS)
    /// The thing named does not exist (a service, a metric id).
    public static let notFound = HostStatus(PLEXUS_E_NOT_FOUND)
    /// A bound was reached.
    public static let limitReached = HostStatus(PLEXUS_E_LIMIT_REACHED)
    /// No answer in time.
    public static let timeout = HostStatus(PLEXUS_E_TIMEOUT)
    /// Cancelled before it ran.
    public static let cancelled = HostStatus(PLEXUS_E_CANCELLED)
    /// This process does not offer the service.
    public static let unsupported = HostStatus(PLEXUS_E_UNSUPPORTED)
    /// The other side (a service handler) failed.
    public static let remoteFailed = HostStatus(PLEXUS_E_REMOTE_FAILED)
    /// Refused (a reserved topic or route prefix, the durable log).
    public static let refused = HostStatus(PLEXUS_E_REFUSED)

    /// Whether this is a storage failure (see ``StorageFailure/Kind``).
    public var isStorageFailure: Bool {
        (Int32(bitPattern: PLEXUS_E_STORAGE_BUSY.rawValue)...Int32(bitPattern: PLEXUS_E_STORAGE_OTHER.rawValue)).contains(rawValue)
    }

    /// The code's text, from the header this SDK was built with (e.g. "storage busy (32)").
    public var description: String { "\(String(cString: plexus_strerror(rawValue))) (\(rawValue))" }

    /// The status of this thread's last host call, or of the outcome the running callback
    /// reports; nil when the runtime is older than ABI 1.4 or the plugin is not loaded.
    static func last() -> HostStatus? {
        guard let host = LoopExecutor.shared.host, HostBridge(host: host).has(\.last_status), let read = host.pointee.last_status else { return nil }
        return HostStatus(rawValue: read(host))
    }
}
