import Foundation
import PlexusSDK
import TimetableSolver

/// An RFC 9457 problem raised by the timetable routes, with extension members that locate the fault.
///
/// Besides `status`, `title` and `detail`, the body may carry `field` (a bad option), `line` (a `.ctt` line),
/// `path` (a JSON path in the school model or the replan body), `kind` (`syntax`, `unknown_reference`,
/// `impossible_size`, `too_large`) and, for `too_large`, `field`, `value` and `limit`. Route handlers catch it and answer with ``response(instance:)``; it also conforms to
/// ``HTTPResponseError`` so an uncaught one still becomes a plain problem response.
struct TimetableProblem: HTTPResponseError, Sendable {
    /// The HTTP status.
    var status: Int
    /// Short summary of the problem type.
    var title: String
    /// What went wrong in this request.
    var detail: String
    /// Extension members (`field`, `line`, `path`, `kind`, ...).
    var extras: [String: ProblemValue] = [:]

    /// A JSON scalar for an extension member.
    enum ProblemValue: Sendable {
        case string(String)
        case int(Int)

        var any: Any {
            switch self {
            case .string(let s): s
            case .int(let i): i
            }
        }
    }

    /// 400 naming the option `field` and what it allows.
    static func badOption(_ field: String, _ reason: String) -> TimetableProblem {
        TimetableProblem(status: 400, title: "Invalid option", detail: "field '\(field)': \(reason)", extras: ["field": .string(field)])
    }

    /// 400 for a body that cannot be read at all.
    static func badRequest(_ detail: String) -> TimetableProblem {
        TimetableProblem(status: 400, title: "Bad Request", detail: detail)
    }

    /// 404 for an unknown job id.
    static func unknownJob(_ id: String) -> TimetableProblem {
        TimetableProblem(status: 404, title: "Unknown job", detail: "no job with id '\(id)' (finished jobs are dropped, oldest first, beyond the configured max_jobs)",
                         extras: ["job": .string(id)])
    }

    /// 409 for a request the job's state does not allow.
    static func conflict(_ detail: String, status jobStatus: JobStatus) -> TimetableProblem {
        TimetableProblem(status: 409, title: "Conflict", detail: detail, extras: ["job_status": .string(jobStatus.rawValue)])
    }

    /// 503 when the plugin cannot take more work.
    static func unavailable(_ detail: String) -> TimetableProblem {
        TimetableProblem(status: 503, title: "Service Unavailable", detail: detail)
    }

    /// 422 for an instance the solver's reader rejected; `pathPrefix` roots school-model paths (`school.`).
    static func invalidInstance(_ error: InstanceError, pathPrefix: String = "") -> TimetableProblem {
        var extras: [String: ProblemValue] = ["kind": .string(kindName(error.kind))]
        var location = ""
        if let line = error.line {
            extras["line"] = .int(line)
            location = "line \(line): "
        }
        if let field = error.field { extras["field"] = .string(field) }
        if let value = error.value { extras["value"] = Int(value).map { .int($0) } ?? .string(value) }
        if let limit = error.limit { extras["limit"] = .int(limit) }
        if let path = error.path {
            let full = path == "$" ? (pathPrefix.isEmpty ? "$" : String(pathPrefix.dropLast())) : pathPrefix + path
            extras["path"] = .string(full)
            location += "\(full): "
        }
        return TimetableProblem(status: 422, title: error.kind == .tooLarge ? "Instance too large" : "Invalid instance",
                                detail: "\(location)\(kindName(error.kind).replacingOccurrences(of: "_", with: " ")): \(error.message)",
                                extras: extras)
    }

    /// The snake_case name of an instance error kind.
    static func kindName(_ kind: InstanceError.Kind) -> String {
        switch kind {
        case .syntax: "syntax"
        case .unknownReference: "unknown_reference"
        case .impossibleSize: "impossible_size"
        case .tooLarge: "too_large"
        }
    }

    /// The problem+json response, `instance` being the request id.
    func response(instance: String) -> Response {
        var body: [String: Any] = ["type": "about:blank", "status": status, "title": title, "detail": detail, "instance": instance]
        for (key, value) in extras { body[key] = value.any }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: Headers([("Content-Type", "application/problem+json")]), body: Array(data))
    }
}
