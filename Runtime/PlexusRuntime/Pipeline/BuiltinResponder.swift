/// The responder for the runtime's own endpoints: runs the endpoint and writes its answer when
/// it comes (at once, later on the loop, or never when the endpoint took the connection over
/// as a stream). Loop thread only.
final class BuiltinResponder {
    private let writer: ResponseWriter

    init(writer: ResponseWriter) {
        self.writer = writer
    }

    /// Runs `builtin` for `exchange` (its body complete, its head screened).
    func call(_ exchange: HTTPExchange, builtin: BuiltinRoute) {
        builtin.endpoint.run(exchange) { [writer] response in
            guard !exchange.abandoned, exchange.response == nil, !exchange.streaming else { return }
            writer.send(exchange, status: response.status, headers: response.headers, body: response.body)
        }
    }
}
