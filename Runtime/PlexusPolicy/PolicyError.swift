import PlexusStorage

/// A failure of a policy component: what went wrong (`kind`) and a message that says exactly what.
///
/// Grows without breaking callers: compare `kind` with the static members (`.invalidConfiguration`,
/// `.unknownPolicy`, ...), never switch over a closed set.
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of a `PolicyError`.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Code: String, Sendable, Hashable {
            case invalidConfiguration, unknownPolicy, invalidRoute, invalidJSON, storage, closed
        }
        fileprivate let code: Code

        /// A policy, breaker, bulkhead, audit log or OpenAPI setting is out of range or malformed.
        public static let invalidConfiguration = Kind(code: .invalidConfiguration)
        /// A rate-limit check named a policy the limiter was not created with.
        public static let unknownPolicy = Kind(code: .unknownPolicy)
        /// A route handed to the OpenAPI builder is malformed (bad method, pattern or schema).
        public static let invalidRoute = Kind(code: .invalidRoute)
        /// Text that should be JSON is not.
        public static let invalidJSON = Kind(code: .invalidJSON)
        /// The audit log's database failed; `storageError` holds the cause.
        public static let storage = Kind(code: .storage)
        /// The audit log was closed.
        public static let closed = Kind(code: .closed)

        /// The kind's name, e.g. `unknownPolicy`.
        public var description: String { code.rawValue }
    }

    /// The category of the failure.
    public let kind: Kind
    /// A human-readable explanation.
    public let message: String
    /// For `.storage`: the underlying storage failure.
    public let storageError: StorageError?

    /// Creates an error; the components build these, the initializer is public for tests and adapters.
    public init(_ kind: Kind, _ message: String, storageError: StorageError? = nil) {
        self.kind = kind
        self.message = message
        self.storageError = storageError
    }

    /// Wraps a storage failure of the audit log.
    init(storage error: StorageError) {
        self.init(error.kind == .closed ? .closed : .storage, error.description, storageError: error)
    }

    /// `policy error [kind]: message`.
    public var description: String { "policy error [\(kind)]: \(message)" }
}
