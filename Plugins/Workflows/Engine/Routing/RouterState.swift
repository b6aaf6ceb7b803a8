/// A change to a rule's state (de-duplication keys, rate-limit buckets, open batches), recorded
/// by a ``Router`` with `journaling` on so that its owner can store it, and replayed by
/// ``Router/restore(_:)`` after a restart.
public enum RouterStateChange: Sendable, Equatable {
    /// Key `key` of rule `rule` was seen at `at` (de-duplication).
    case seen(rule: String, key: String, at: Int64)
    /// The rate-limit bucket of `key` holds `tokens`, as of `at`.
    case bucket(rule: String, key: String, tokens: Double, at: Int64)
    /// `item` was added at position `index` of open batch `batch` (key `key`, opened at `opened`).
    case batchItem(rule: String, key: String, batch: Int64, opened: Int64, index: Int, item: JSON)
    /// Batch `batch` was closed (its output carries the same id; forget it once published).
    case batchClosed(rule: String, batch: Int64)
    /// De-duplication keys of `rule` seen before `before` were forgotten.
    case forgetSeen(rule: String, before: Int64)
    /// Every rate-limit bucket of `rule` was forgotten.
    case forgetBuckets(rule: String)
}

extension Router {
    /// Replays stored changes (oldest first, batch items in index order) into an empty router: keys,
    /// buckets and open batches of rules it has; changes of rules it does not have are ignored.
    /// Expired de-duplication keys are skipped. Journaling is not affected; nothing is journaled.
    /// - Returns: the batches not restored (of a rule it does not have, or older than the newest open
    ///   batch of the same key, i.e. already published): their owner may forget them.
    @discardableResult
    public func restore(_ changes: [RouterStateChange], now: Int64) -> [(rule: String, batch: Int64)] {
        var dropped: [(rule: String, batch: Int64)] = []
        var seenDropped = Set<String>()
        func drop(_ rule: String, _ batch: Int64) { if seenDropped.insert("\(rule)|\(batch)").inserted { dropped.append((rule, batch)) } }
        let byName = Dictionary(states.map { ($0.rule.name, $0) }, uniquingKeysWith: { first, _ in first })
        for change in changes {
            switch change {
            case let .seen(rule, key, at):
                guard let state = byName[rule], let window = state.rule.dedupe?.windowMilliseconds, now - at < Int64(window) else { continue }
                state.seen[key] = max(state.seen[key] ?? at, at)
            case let .bucket(rule, key, tokens, at):
                guard let state = byName[rule], state.rule.rateLimit != nil else { continue }
                state.buckets[key] = (tokens, at)
            case let .batchItem(rule, key, batch, opened, _, item):
                guard let state = byName[rule], state.rule.aggregate != nil else {
                    drop(rule, batch)
                    continue
                }
                if state.batches[key]?.id != batch {
                    // Of two batches of one key, only the newest is open: the older one was closed and published.
                    if let open = state.batches[key] {
                        if open.id > batch {
                            drop(rule, batch)
                            continue
                        }
                        drop(rule, open.id)
                    }
                    state.batches[key] = Batch(items: [], opened: opened, id: batch)
                }
                state.batches[key]?.items.append(item)
            case let .batchClosed(rule, batch):
                guard let state = byName[rule] else { continue }
                for (key, open) in state.batches where open.id == batch { state.batches[key] = nil }
            case let .forgetSeen(rule, before):
                byName[rule]?.seen = byName[rule]?.seen.filter { $0.value >= before } ?? [:]
            case let .forgetBuckets(rule):
                byName[rule]?.buckets = [:]
            }
            if case let .batchItem(_, _, batch, _, _, _) = change { nextBatch = max(nextBatch, batch + 1) }
        }
        return dropped
    }

    /// The journal so far, emptied.
    public func takeJournal() -> [RouterStateChange] {
        defer { journal = [] }
        return journal
    }
}
