import DocDiff
import Foundation
import PlexusSDK

/// Runs a parsed comparison and renders the answer. Synchronous and CPU-bound: call it
/// inside `PluginContext.offLoop`.
enum CompareService {
    /// The media type of unified diffs.
    static let unifiedDiffType = "text/x-diff; charset=utf-8"

    /// A rendered answer and what the comparison found (for `document.compared`).
    struct Outcome: Sendable {
        var response: Response
        var summary: CompareSummary
    }

    /// Parses `request`, compares the documents and renders the result.
    /// - Parameters:
    ///   - forceHTML: answer with the HTML redline whatever `format` says (the redline route).
    ///   - maxInputBytes: the per-document size limit.
    static func respond(to request: Request, forceHTML: Bool, maxInputBytes: Int) throws -> Outcome {
        let parsed = try CompareRequest.parse(request)
        let old = try DocumentDecoder.decode(parsed.old, maxInputBytes: maxInputBytes)
        let new = try DocumentDecoder.decode(parsed.new, maxInputBytes: maxInputBytes)
        let format: OutputFormat = forceHTML ? .html : parsed.options.format
        return try render(parsed, old: old, new: new, format: format)
    }

    /// Compares `old` and `new` as `parsed.options` say and renders them in `format`.
    /// - Parameter versions: the stored versions compared, if any (reported in JSON and in the summary).
    static func render(_ parsed: CompareRequest, old: TextDocument, new: TextDocument, format: OutputFormat,
                       versions: VersionPair? = nil) throws -> Outcome {
        let options = parsed.options
        let oldLabel = parsed.old.label ?? parsed.old.filename ?? "old", newLabel = parsed.new.label ?? parsed.new.filename ?? "new"
        let title = "Redline: \(oldLabel) → \(newLabel)"
        func summary(_ result: DiffResult) -> CompareSummary {
            let statistics = result.statistics
            return CompareSummary(
                tenant: versions?.tenant, document: versions?.document, from: versions?.from, to: versions?.to,
                mode: options.mode.rawValue, format: format.rawValue, granularity: result.options.granularity.rawValue,
                algorithm: result.options.algorithm.rawValue,
                identical: statistics.inserted == 0 && statistics.deleted == 0 && statistics.moved == 0,
                statistics: statistics, moves: result.moves.count, oldBytes: old.bytes.count, newBytes: new.bytes.count)
        }
        switch format {
        case .unified:
            var lineOptions = options.diffOptions
            lineOptions.granularity = .line
            lineOptions.detectMoves = false
            let result = DocDiff.diff(old, new, options: lineOptions)
            let text = UnifiedDiff.render(result, oldLabel: oldLabel, newLabel: newLabel)
            return Outcome(response: Response(status: 200, headers: Headers([("Content-Type", unifiedDiffType)]), body: Array(text.utf8)),
                           summary: summary(result))
        case .html:
            let result = DocDiff.diff(old, new, options: options.diffOptions)
            if options.mode == .clauses {
                return Outcome(response: .html(ClauseComparer.compare(old.string, new.string, ignoreCase: options.ignoreCase, title: title).redline.html), summary: summary(result))
            }
            return Outcome(response: .html(Redline(result, title: title).html), summary: summary(result))
        case .json:
            let result = DocDiff.diff(old, new, options: options.diffOptions)
            let script = EditScript(result)
            let statistics = result.statistics
            let report = CompareReport(
                mode: options.mode.rawValue,
                options: .init(granularity: options.granularity.rawValue, algorithm: options.algorithm.rawValue,
                               ignoreWhitespace: options.ignoreWhitespace, ignoreCase: options.ignoreCase,
                               detectMoves: options.detectMoves),
                old: .init(source: parsed.old.kind.rawValue, filename: parsed.old.filename, textBytes: old.bytes.count),
                new: .init(source: parsed.new.kind.rawValue, filename: parsed.new.filename, textBytes: new.bytes.count),
                identical: statistics.inserted == 0 && statistics.deleted == 0 && statistics.moved == 0,
                statistics: statistics, moves: result.moves, editScript: script,
                clauses: options.mode == .clauses ? ClauseReport(ClauseComparer.compare(old.string, new.string, ignoreCase: options.ignoreCase, title: title)) : nil,
                versions: versions)
            return Outcome(response: try .json(report, encoder: encoder), summary: summary(result))
        }
    }

    /// Sorted, snake_case keys.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}
