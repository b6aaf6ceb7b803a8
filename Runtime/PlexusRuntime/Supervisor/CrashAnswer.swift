import Foundation

/// What the master writes on a connection whose request was in flight when its worker died.
enum CrashAnswer {
    /// The request was running in the plugin that crashed the worker.
    static func badGateway(plugin: String) -> [UInt8] {
        let detail = plugin.isEmpty ? "the worker crashed while handling this request"
            : "plugin '\(plugin)' crashed the worker while handling this request"
        return encode(status: 502, detail: detail, extra: "")
    }

    /// The request was in flight elsewhere (or still arriving) when the worker crashed: whether
    /// it took effect is unknown; a retry goes to the next worker.
    static func unavailable() -> [UInt8] {
        encode(status: 503, detail: "the worker crashed while this request was in progress (in another plugin or in the runtime); whether it took effect is unknown",
               extra: "Retry-After: 1\r\n")
    }

    private static func encode(status: Int, detail: String, extra: String) -> [UInt8] {
        let body = ProblemJSON.body(status: status, detail: detail, instance: "")
        let head = "HTTP/1.1 \(status) \(HTTPReason.phrase(status))\r\nContent-Type: application/problem+json\r\nContent-Length: \(body.count)\r\n"
            + "\(extra)Connection: close\r\nDate: \(HTTPDate.format(time(nil)))\r\n\r\n"
        return Array(head.utf8) + body
    }
}
