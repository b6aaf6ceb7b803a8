/// Why a chart could not be rendered, with the JSON path of the part at fault (`$.encoding.x.field`).
public struct ChartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of fault; the plugin maps it to an HTTP status.
    public enum Kind: String, Sendable {
        /// The body is not JSON.
        case syntax
        /// Valid JSON, but not a chart this engine understands (unknown key, wrong type, outside the subset).
        case unsupported
        /// A value is invalid (unknown field, NaN, bad expression).
        case invalid
        /// Over a configured limit (points, size, nesting).
        case tooLarge = "too_large"
        /// The renderer failed (cairo).
        case render
    }

    public var kind: Kind
    /// JSON path of the offending part, `$` for the whole document.
    public var path: String
    public var message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
