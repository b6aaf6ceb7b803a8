import CPlexusABI
import Foundation

/// An error that knows how it should look over HTTP.
///
/// A route handler that throws one is answered with an RFC 9457 `application/problem+json`
/// body carrying ``status``, ``title`` and ``detail``. Any other error becomes a 500 whose
/// detail does not leak internals; the error itself is logged.
public protocol HTTPResponseError: Error {
    /// The HTTP status code.
    var status: Int { get }
    /// A short, human-readable summary of the problem type.
    var title: String { get }
    /// What went wrong in this occurrence, for the client.
    var detail: String { get }
}

/// The common HTTP errors, ready to throw from a handler.
public struct HTTPError: HTTPResponseError, CustomStringConvertible {
    /// The HTTP status code.
    public var status: Int
    /// Short summary; defaults to the status's reason phrase.
    public var title: String
    /// What went wrong.
    public var detail: String

    /// Creates an error with any status.
    public init(status: Int, title: String? = nil, detail: String) {
        self.status = status
        self.title = title ?? HTTPStatus.reasonPhrase(status)
        self.detail = detail
    }

    /// 400: the request is malformed; say which field and why.
    public static func badRequest(_ detail: String) -> HTTPError { HTTPError(status: 400, detail: detail) }
    /// 404: the resource does not exist.
    public static func notFound(_ detail: String) -> HTTPError { HTTPError(status: 404, detail: detail) }
    /// 403 Forbidden: the caller is known but may not do this.
    public static func forbidden(_ detail: String) -> HTTPError { HTTPError(status: 403, detail: detail) }
    /// 409: the request conflicts with the current state.
    public static func conflict(_ detail: String) -> HTTPError { HTTPError(status: 409, detail: detail) }
    /// 413: the body is larger than this route accepts.
    public static func payloadTooLarge(_ detail: String) -> HTTPError { HTTPError(status: 413, detail: detail) }
    /// 415: the content type is not supported here.
    public static func unsupportedMediaType(_ detail: String) -> HTTPError { HTTPError(status: 415, detail: detail) }
    /// 422: well-formed but semantically invalid input.
    public static func unprocessable(_ detail: String) -> HTTPError { HTTPError(status: 422, detail: detail) }
    /// 503: temporarily unable to serve.
    public static func unavailable(_ detail: String) -> HTTPError { HTTPError(status: 503, detail: detail) }

    /// `"<status> <title>: <detail>"`.
    public var description: String { "\(status) \(title): \(detail)" }
}

/// Builds problem+json responses (RFC 9457).
public enum ProblemDetails {
    /// The response for `error`: its own status and texts for ``HTTPResponseError``, else a bare 500.
    public static func response(for error: Error, instance: String) -> Response {
        let status: Int, title: String, detail: String
        if let error = error as? HTTPResponseError {
            (status, title, detail) = (error.status, error.title, error.detail)
        } else {
            (status, title, detail) = (500, HTTPStatus.reasonPhrase(500), "the handler failed; see the server log for request \(instance)")
        }
        let body: [String: Any] = ["type": "about:blank", "status": status, "title": title, "detail": detail, "instance": instance]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: Headers([("Content-Type", "application/problem+json")]), body: Array(data))
    }
}

