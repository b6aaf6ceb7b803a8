import CPlexusABI

/// An HTTP status code, typed: `.ok`, `.created`, `.notFound`, ... An integer literal converts
/// (`Response(status: 201)`), and ``code`` is the number.
public struct HTTPStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The status code, e.g. 404.
    public let rawValue: Int

    /// A status by code.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A status from a literal, e.g. `201`.
    public init(integerLiteral value: Int) { self.init(rawValue: value) }

    /// The status code, e.g. 404.
    public var code: Int { rawValue }

    /// 200 OK.
    public static let ok: HTTPStatus = 200
    /// 201 Created.
    public static let created: HTTPStatus = 201
    /// 202 Accepted.
    public static let accepted: HTTPStatus = 202
    /// 204 No Content.
    public static let noContent: HTTPStatus = 204
    /// 301 Moved Permanently.
    public static let movedPermanently: HTTPStatus = 301
    /// 302 Found.
    public static let found: HTTPStatus = 302
    /// 304 Not Modified.
    public static let notModified: HTTPStatus = 304
    /// 400 Bad Request.
    public static let badRequest: HTTPStatus = 400
    /// 401 Unauthorized.
    public static let unauthorized: HTTPStatus = 401
    /// 403 Forbidden.
    public static let forbidden: HTTPStatus = 403
    /// 404 Not Found.
    public static let notFound: HTTPStatus = 404
    /// 405 Method Not Allowed.
    public static let methodNotAllowed: HTTPStatus = 405
    /// 409 Conflict.
    public static let conflict: HTTPStatus = 409
    /// 410 Gone.
    public static let gone: HTTPStatus = 410
    /// 413 Content Too Large.
    public static let contentTooLarge: HTTPStatus = 413
    /// 415 Unsupported Media Type.
    public static let unsupportedMediaType: HTTPStatus = 415
    /// 422 Unprocessable Content.
    public static let unprocessableContent: HTTPStatus = 422
    /// 429 Too Many Requests.
    public static let tooManyRequests: HTTPStatus = 429
    /// 500 Internal Server Error.
    public static let internalServerError: HTTPStatus = 500
    /// 501 Not Implemented.
    public static let notImplemented: HTTPStatus = 501
    /// 503 Service Unavailable.
    public static let serviceUnavailable: HTTPStatus = 503
    /// 504 Gateway Timeout.
    public static let gatewayTimeout: HTTPStatus = 504

    /// Whether the code is 2xx.
    public var isSuccess: Bool { (200..<300).contains(rawValue) }

    /// The standard reason phrase, e.g. "Not Found" (`"Unknown"` for unassigned codes).
    public var reasonPhrase: String { Self.reasonPhrase(rawValue) }

    /// The standard reason phrase of `status` (`"Unknown"` for unassigned codes).
    public static func reasonPhrase(_ status: Int) -> String {
        plexus_reason_phrase(Int32(clamping: status)).map { String(cString: $0) } ?? "Unknown"
    }

    /// The code, e.g. `404`.
    public var description: String { "\(rawValue)" }
}

extension Response {
    /// The status, typed (same value as ``status``).
    public var httpStatus: HTTPStatus {
        get { HTTPStatus(rawValue: status) }
        set { status = newValue.rawValue }
    }

    /// Creates a response with a typed status.
    public init(status: HTTPStatus, headers: Headers = Headers(), body: [UInt8] = []) {
        self.init(status: status.rawValue, headers: headers, body: body)
    }

    /// A `text/plain; charset=utf-8` response with a typed status.
    public static func text(_ text: String, status: HTTPStatus) -> Response { .text(text, status: status.rawValue) }

    /// An `application/json` response encoding `value`, with a typed status.
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus) throws -> Response { try .json(value, status: status.rawValue) }

    /// A response with no body and a typed status.
    public static func empty(status: HTTPStatus) -> Response { .empty(status: status.rawValue) }
}

extension Request {
    /// The method, typed (same value as ``method``).
    public var httpMethod: HTTPMethod { HTTPMethod(rawValue: method) }
}
