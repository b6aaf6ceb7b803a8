import Foundation

/// An HTTP response returned by a route handler.
public struct Response: Sendable {
    /// The status code.
    public var status: Int
    /// Response headers. `Content-Length`, `Date` and `Connection` are set by the runtime.
    public var headers: Headers
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int = 200, headers: Headers = Headers(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: Int = 200) -> Response {
        Response(status: status, headers: Headers(single: "Content-Type", "text/plain; charset=utf-8"), body: Array(text.utf8))
    }

    /// A `text/html; charset=utf-8` response.
    public static func html(_ html: String, status: Int = 200) -> Response {
        Response(status: status, headers: Headers(single: "Content-Type", "text/html; charset=utf-8"), body: Array(html.utf8))
    }

    /// An `application/json` response encoding `value`.
    public static func json<T: Encodable>(_ value: T, status: Int = 200, encoder: JSONEncoder = Response.defaultEncoder) throws -> Response {
        let data = try encoder.encode(value)
        return Response(status: status, headers: Headers(single: "Content-Type", "application/json"), body: Array(data))
    }

    /// A response with no body.
    public static func empty(status: Int = 204) -> Response {
        Response(status: status)
    }

    /// The encoder used by ``json(_:status:encoder:)`` unless told otherwise: sorted keys, ISO 8601 dates.
    public static var defaultEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
