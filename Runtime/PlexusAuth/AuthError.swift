/// Why a credential was refused, or why the auth configuration or key store failed.
///
/// `description` says exactly what is wrong ("token expired at 2026-11-22T01:00:00Z"); `code` is a
/// short stable identifier for logs and metrics (`expired`); `bearerError` and
/// `wwwAuthenticate(realm:)` give what RFC 6750 puts in a `WWW-Authenticate: Bearer` challenge.
/// Compare with the kinds: `error.kind == .expired`. New kinds may be added without breaking callers.
public struct AuthError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of an `AuthError`; compare with the static members (`.expired`, `.badSignature`, ...).
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Code: String, Sendable, Hashable {
            case malformed, unsupportedAlgorithm = "unsupported_algorithm", unknownKeyID = "unknown_kid"
            case badSignature = "bad_signature", expired, notYetValid = "not_yet_valid"
            case wrongIssuer = "wrong_issuer", wrongAudience = "wrong_audience"
            case missingClaim = "missing_claim", invalidClaim = "invalid_claim"
            case unknownAPIKey = "unknown_api_key", revokedAPIKey = "revoked_api_key"
            case configuration, storage, notFound = "not_found", alreadyRevoked = "already_revoked"
            case conflict, invalidArgument = "invalid_argument"
        }
        fileprivate let code: Code

        /// The credential is not well-formed: segments, base64url, JSON, header, size, API key shape.
        public static let malformed = Kind(code: .malformed)
        /// The token's `alg` is `none`, unknown, or has no configured key (algorithm confusion included).
        public static let unsupportedAlgorithm = Kind(code: .unsupportedAlgorithm)
        /// The token's `kid` names no configured key.
        public static let unknownKeyID = Kind(code: .unknownKeyID)
        /// The signature does not verify with the selected key(s).
        public static let badSignature = Kind(code: .badSignature)
        /// `exp` has passed (beyond the leeway).
        public static let expired = Kind(code: .expired)
        /// `nbf` or `iat` lies in the future (beyond the leeway).
        public static let notYetValid = Kind(code: .notYetValid)
        /// `iss` is not the configured issuer.
        public static let wrongIssuer = Kind(code: .wrongIssuer)
        /// `aud` names none of the configured audiences.
        public static let wrongAudience = Kind(code: .wrongAudience)
        /// A required claim (`sub`, `exp`, `iss`, `aud`) is absent.
        public static let missingClaim = Kind(code: .missingClaim)
        /// A claim has the wrong type or an unusable value.
        public static let invalidClaim = Kind(code: .invalidClaim)
        /// The API key is well-formed but unknown (or its secret does not match).
        public static let unknownAPIKey = Kind(code: .unknownAPIKey)
        /// The API key was revoked.
        public static let revokedAPIKey = Kind(code: .revokedAPIKey)
        /// The JWT settings are unusable: a key file cannot be read, a secret is too short, ...
        public static let configuration = Kind(code: .configuration)
        /// The API key database failed (the `StorageError` is in the message).
        public static let storage = Kind(code: .storage)
        /// `revoke` found no key with that id or name.
        public static let notFound = Kind(code: .notFound)
        /// `revoke` found the key, but it was already revoked.
        public static let alreadyRevoked = Kind(code: .alreadyRevoked)
        /// `create` was given the name of an active key.
        public static let conflict = Kind(code: .conflict)
        /// `create` was given an unusable name, tenant, role or scope.
        public static let invalidArgument = Kind(code: .invalidArgument)

        /// The kind's short code, e.g. `expired`.
        public var description: String { code.rawValue }
    }

    /// The category of the failure.
    public let kind: Kind
    /// What exactly is wrong, in one sentence without a trailing period.
    public let message: String

    /// Creates an error (the library builds these; public for tests and adapters).
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message, e.g. `token expired at 2026-11-22T01:00:00Z`.
    public var description: String { message }

    /// A short stable code for logs and metrics, e.g. `expired`, `bad_signature`, `unknown_api_key`.
    public var code: String { kind.code.rawValue }

    /// Whether the client's credential is at fault (answer 401), as opposed to the server's
    /// configuration or database (`.configuration`, `.storage`: answer 500, log it).
    public var isCredentialError: Bool {
        switch kind.code {
        case .configuration, .storage, .notFound, .alreadyRevoked, .conflict, .invalidArgument: false
        default: true
        }
    }

    /// The RFC 6750 `error` value: `invalid_token` for every credential failure ("expired, revoked,
    /// malformed, or invalid for other reasons", section 3.1).
    public var bearerError: String { "invalid_token" }

    /// A `WWW-Authenticate` value: `Bearer realm="...", error="invalid_token", error_description="..."`.
    ///
    /// Characters RFC 6750 does not allow in a quoted value (`"`, `\`, controls, non-ASCII) are
    /// replaced by `?`, so claim values echoed in the message cannot inject header syntax.
    public func wwwAuthenticate(realm: String? = nil) -> String {
        var value = "Bearer "
        if let realm { value += "realm=\"\(Self.quotable(realm))\", " }
        value += "error=\"\(bearerError)\", error_description=\"\(Self.quotable(message))\""
        return value
    }

    /// `text` with every byte outside %x20-21 / %x23-5B / %x5D-7E replaced by `?`.
    static func quotable(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            let allowed = byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            bytes.append(allowed ? byte : UInt8(ascii: "?"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `value` in single quotes for a message, cut to 64 characters (values come from clients).
    static func quoted(_ value: String) -> String {
        value.count <= 64 ? "'\(value)'" : "'\(value.prefix(61))...'"
    }
}
