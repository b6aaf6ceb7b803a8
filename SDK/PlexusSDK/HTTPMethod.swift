/// An HTTP method, typed: `.get`, `.post`, ... or any other token by its upper-case name.
///
/// A string literal converts (`"PATCH"`), so `routes.on("PATCH", ...)` and `routes.on(.patch, ...)`
/// register the same route.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The method's name in upper case, as it goes on the wire.
    public let rawValue: String

    /// A method by name; it is upper-cased (the runtime refuses names that are not a token).
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    /// A method from a literal, e.g. `"PATCH"`.
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    /// `GET` (a `HEAD` is answered from it too).
    public static let get: HTTPMethod = "GET"
    /// `HEAD`.
    public static let head: HTTPMethod = "HEAD"
    /// `POST`.
    public static let post: HTTPMethod = "POST"
    /// `PUT`.
    public static let put: HTTPMethod = "PUT"
    /// `PATCH`.
    public static let patch: HTTPMethod = "PATCH"
    /// `DELETE`.
    public static let delete: HTTPMethod = "DELETE"
    /// `OPTIONS`.
    public static let options: HTTPMethod = "OPTIONS"

    /// The name, e.g. `GET`.
    public var description: String { rawValue }
}
