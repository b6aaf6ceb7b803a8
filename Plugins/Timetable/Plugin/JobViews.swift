import Foundation
import PlexusSDK
import TimetableSolver

/// JSON shapes of job status and job lists (encoded with snake_case keys, see ``JobViews/encoder``).
enum JobViews {
    /// Sorted, snake_case keys, ISO 8601 dates.
    static var encoder: JSONEncoder {
        let encoder = Response.defaultEncoder
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// `GET /jobs/<id>` (and the body of 202 answers).
    struct Status: Encodable {
        var id: String
        var status: JobStatus
        /// The instance's name (absent when its stored input does not parse here).
        var name: String?
        var format: InstanceFormat
        var kind: String
        var replanOf: String?
        var created: Date
        var started: Date?
        var finished: Date?
        var cancelRequested: Bool
        var queuePosition: Int?
        var progress: Progress
        var limits: Limits
        /// Sizes of the instance (absent when its stored input does not parse here).
        var instance: InstanceSummary?
        var error: String?
        var links: [String: String]
    }

    /// Best-so-far numbers of a run.
    struct Progress: Encodable {
        /// Hard violations of the best timetable so far (nil before the first report).
        var bestHard: Int?
        /// Soft cost of the best timetable so far.
        var bestSoft: Int?
        /// Seconds since the job started (live while it runs; the solve's time once finished).
        var elapsedSeconds: Double
        /// Seconds into the solve of the latest report.
        var reportedAtSeconds: Double?
        /// How many reports arrived.
        var updates: Int

        private enum CodingKeys: String, CodingKey {
            case bestHard, bestSoft, elapsedSeconds, reportedAtSeconds, updates
        }

        /// Encodes every member, writing `null` for numbers not reported yet.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(bestHard, forKey: .bestHard)
            try container.encode(bestSoft, forKey: .bestSoft)
            try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
            try container.encode(reportedAtSeconds, forKey: .reportedAtSeconds)
            try container.encode(updates, forKey: .updates)
        }
    }

    /// The options the job runs with.
    struct Limits: Encodable {
        var timeLimitSeconds: Double
        var seed: UInt64
        var movesBudget: Int?
        var threads: Int
    }

    /// Sizes of the instance.
    struct InstanceSummary: Encodable {
        var name: String
        var courses: Int
        var rooms: Int
        var curricula: Int
        var days: Int
        var periodsPerDay: Int
        var lectures: Int
    }

    /// One entry of `GET /jobs`.
    struct ListEntry: Encodable {
        var id: String
        var status: JobStatus
        var created: Date
        var name: String
        var kind: String
        var links: [String: String]
    }

    /// `GET /jobs`.
    struct List: Encodable {
        var jobs: [ListEntry]
        var count: Int
        var running: Int
    }

    /// The URL of a job.
    static func location(_ id: String) -> String { "/api/v1/timetable/jobs/\(id)" }

    /// The status of `job`.
    @PluginActor
    static func status(_ job: Job, queuePosition: Int?) -> Status {
        let snapshot = job.progress.snapshot
        let elapsed = job.elapsedSeconds ?? 0
        let instance = job.instance
        var links = ["self": location(job.id)]
        if job.status.isFinished { links["result"] = location(job.id) + "/result" }
        return Status(
            id: job.id, status: job.status, name: job.inputUnreadable ? nil : instance.name, format: job.format,
            kind: job.replanSource == nil ? "solve" : "replan", replanOf: job.replanSource,
            created: job.created, started: job.started, finished: job.finished, cancelRequested: job.cancelRequested,
            queuePosition: queuePosition,
            progress: Progress(bestHard: snapshot?.hard, bestSoft: snapshot?.soft, elapsedSeconds: (elapsed * 1000).rounded() / 1000,
                               reportedAtSeconds: snapshot.map { ($0.elapsed * 1000).rounded() / 1000 }, updates: snapshot?.updates ?? 0),
            limits: Limits(timeLimitSeconds: job.options.timeLimitSeconds, seed: job.options.seed,
                           movesBudget: job.options.movesBudget, threads: job.options.threads),
            instance: job.inputUnreadable ? nil : InstanceSummary(name: instance.name, courses: instance.courses.count, rooms: instance.rooms.count,
                                                                  curricula: instance.curricula.count, days: instance.days,
                                                                  periodsPerDay: instance.periodsPerDay, lectures: instance.lectureCount),
            error: job.failure, links: links)
    }

    /// The list entry of `job`.
    @PluginActor
    static func entry(_ job: Job) -> ListEntry {
        ListEntry(id: job.id, status: job.status, created: job.created, name: job.instance.name,
                  kind: job.replanSource == nil ? "solve" : "replan", links: ["self": location(job.id)])
    }
}
