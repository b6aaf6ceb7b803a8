/// Why a native call was refused or failed, as the problem+json the client gets.
struct NativeCallProblem: Error, Sendable {
    let status: Int
    let title: String
    let detail: String
    /// Extra members of the problem object, as JSON texts.
    var extra: [(String, String)] = []

    static func badArgument(_ name: String, _ why: String) -> NativeCallProblem {
        NativeCallProblem(status: 400, title: "Bad argument", detail: "parameter '\(name)' \(why)")
    }

    static func badRequest(_ detail: String) -> NativeCallProblem {
        NativeCallProblem(status: 400, title: "Bad request", detail: detail)
    }

    /// The problem+json body.
    var json: String {
        var writer = NativeJSONWriter()
        writer.string("type", "about:blank")
        writer.string("title", title)
        writer.raw("status", String(status))
        writer.string("detail", detail)
        for (key, value) in extra { writer.raw(key, value) }
        return writer.close()
    }
}
