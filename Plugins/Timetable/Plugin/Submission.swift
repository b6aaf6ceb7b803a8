import Foundation
import PlexusSDK
import TimetableSolver

/// The input format of a job.
enum InstanceFormat: String, Sendable, CaseIterable, Codable {
    /// ITC2007 Track 3 `.ctt` text.
    case itc2007
    /// The JSON school model (`SchoolModel`).
    case school
}

/// A parsed, validated job submission: the instance and the solve options.
struct Submission: Sendable {
    /// The instance, consistency-checked.
    var instance: Instance
    /// The input format it came in.
    var format: InstanceFormat
    /// The solve options.
    var options: JobOptions
    /// The instance as submitted (`.ctt` text, or the school model's JSON), kept in storage so the job can be
    /// restored after a restart.
    var input: String

    /// Reads a `POST /jobs` request. CPU-bound (parses the instance): call it off the loop.
    ///
    /// Accepted bodies:
    /// - `application/json`: `{"format": "itc2007", "instance": "<.ctt text>", options...}` or
    ///   `{"format": "school", "school": {...}, options...}` (`format` defaults from which member is present);
    /// - `text/plain` (or any `text/*`): the raw `.ctt` text, options in the query string.
    /// - Throws: ``TimetableProblem`` — 400 for unreadable bodies and bad options (naming the field),
    ///   415 for other content types, 422 for instances the reader rejects (with line or JSON path).
    static func parse(_ request: Request, limits: JobLimits) throws -> Submission {
        let contentType = (request.headers["Content-Type"] ?? "").lowercased()
        if contentType.hasPrefix("text/") {
            return try parseText(request, limits: limits)
        }
        guard contentType.isEmpty || contentType.hasPrefix("application/json") || contentType.contains("+json") else {
            throw TimetableProblem(status: 415, title: "Unsupported Media Type",
                                   detail: "send application/json ({\"format\", \"instance\" or \"school\", options}) or text/plain (.ctt text, options in the query)")
        }
        return try parseJSON(request.body, limits: limits)
    }

    /// A raw `.ctt` body with options in the query string.
    static func parseText(_ request: Request, limits: JobLimits) throws -> Submission {
        var options = JobOptions(limits: limits)
        for (name, value) in request.query.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "format":
                guard value.lowercased() == InstanceFormat.itc2007.rawValue else {
                    throw TimetableProblem.badOption("format", "a text/plain body is ITC2007 .ctt text; allowed: itc2007")
                }
            case _ where JobOptions.fieldNames.contains(name):
                try options.set(name, text: value, limits: limits)
            default:
                throw TimetableProblem.badOption(name, "unknown query parameter; allowed: format, \(JobOptions.fieldNames.joined(separator: ", "))")
            }
        }
        guard let text = request.bodyText else { throw TimetableProblem.badRequest("the .ctt body is not valid UTF-8") }
        return Submission(instance: try parseCTT(text, limits: limits.instance, threads: options.threads), format: .itc2007, options: options, input: text)
    }

    /// A JSON body.
    static func parseJSON(_ body: [UInt8], limits: JobLimits) throws -> Submission {
        guard let members = try JSONValue.parse(body).objectValue else {
            throw TimetableProblem.badRequest("the body must be a JSON object")
        }
        let format = try readFormat(members)
        var options = JobOptions(limits: limits)
        let allowed = ["format", "instance", "school"] + JobOptions.fieldNames
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            if JobOptions.fieldNames.contains(name) {
                try options.set(name, json: value, limits: limits)
            } else if !allowed.contains(name) {
                throw TimetableProblem.badOption(name, "unknown field; allowed: \(allowed.joined(separator: ", "))")
            }
        }
        switch format {
        case .itc2007:
            guard let value = members["instance"] else {
                throw TimetableProblem.badOption("instance", "missing; format itc2007 needs the .ctt text in 'instance'")
            }
            guard let text = value.stringValue else {
                throw TimetableProblem.badOption("instance", "must be a string holding the .ctt text, found \(value.typeName)")
            }
            return Submission(instance: try parseCTT(text, limits: limits.instance, threads: options.threads), format: .itc2007, options: options, input: text)
        case .school:
            guard let value = members["school"] else {
                throw TimetableProblem.badOption("school", "missing; format school needs the school model object in 'school'")
            }
            guard value.objectValue != nil else {
                throw TimetableProblem.badOption("school", "must be an object (the school model), found \(value.typeName)")
            }
            let instance = try parseSchool(value, limits: limits.instance, threads: options.threads)
            let input = String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self)
            return Submission(instance: instance, format: .school, options: options, input: input)
        }
    }

    /// The `format` member, or the format implied by which instance member is present.
    private static func readFormat(_ members: [String: JSONValue]) throws -> InstanceFormat {
        let allowed = InstanceFormat.allCases.map(\.rawValue).joined(separator: ", ")
        guard let value = members["format"] else {
            if members["school"] != nil && members["instance"] == nil { return .school }
            if members["instance"] != nil { return .itc2007 }
            throw TimetableProblem.badOption("format", "missing, and neither 'instance' nor 'school' is given; allowed: \(allowed)")
        }
        guard let text = value.stringValue, let format = InstanceFormat(rawValue: text.lowercased()) else {
            throw TimetableProblem.badOption("format", "unknown value \(value.stringValue.map { "'\($0)'" } ?? value.typeName); allowed: \(allowed)")
        }
        return format
    }

    /// Parses and checks `.ctt` text against `limits` (the model's memory for `threads` runs included);
    /// reader errors become 422 with the line, numbers above a limit 422 naming the field, value and limit.
    static func parseCTT(_ text: String, limits: InstanceLimits, threads: Int) throws -> Instance {
        do {
            let instance = try CTTParser.parse(text, limits: limits)
            try instance.checkConsistency()
            try instance.checkLimits(limits, threads: threads)
            return instance
        } catch let error as InstanceError {
            throw TimetableProblem.invalidInstance(error)
        }
    }

    /// Parses stored input text of `format` again (restoring a job after a restart).
    static func parseStored(_ input: String, format: InstanceFormat, limits: InstanceLimits, threads: Int) throws -> Instance {
        switch format {
        case .itc2007: return try parseCTT(input, limits: limits, threads: threads)
        case .school: return try parseSchool(try JSONValue.parse(Array(input.utf8)), limits: limits, threads: threads)
        }
    }

    /// Decodes and maps the school model; reader errors become 422 with the JSON path under `school`.
    static func parseSchool(_ value: JSONValue, limits: InstanceLimits, threads: Int) throws -> Instance {
        do {
            let data = try JSONEncoder().encode(value)
            let instance = try SchoolModel.decode(data).makeInstance(limits: limits, threads: threads)
            try instance.checkConsistency()
            try instance.checkLimits(limits, threads: threads)
            return instance
        } catch let error as InstanceError {
            throw TimetableProblem.invalidInstance(error, pathPrefix: "school.")
        }
    }
}
