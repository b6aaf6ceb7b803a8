/// Request body bytes held by all connections (reserved for bodies being read or waiting for
/// their answer), bounded by `[limits] body_budget_bytes`. Loop thread only.
final class BodyBudget {
    let limit: UInt64
    /// Bytes reserved now.
    private(set) var held: UInt64 = 0

    init(limit: UInt64) {
        self.limit = limit
    }

    /// Reserves `bytes` more for `exchange`; false when the budget cannot hold them.
    func reserve(_ bytes: UInt64, for exchange: HTTPExchange) -> Bool {
        guard bytes > 0 else { return true }
        guard held + bytes <= limit else { return false }
        held += bytes
        exchange.reservedBodyBytes += bytes
        return true
    }

    /// Gives back what `exchange` reserved (once its answer is written or it is abandoned).
    func release(_ exchange: HTTPExchange) {
        held -= min(held, exchange.reservedBodyBytes)
        exchange.reservedBodyBytes = 0
    }
}
