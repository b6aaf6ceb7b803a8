import PlexusSDK
import WorkflowEngine

/// The routing rules' state in storage: de-duplication keys and rate-limit buckets (`rule_keys`)
/// and the items of open batches (`rule_batches`). Changes are written behind the routing, in
/// group-committed transactions (every change queued while one commit runs goes into the next),
/// so after a crash the rules carry on from the last commit. A published batch is deleted only
/// after its publish: one published just before a crash is published again (at least once).
@PluginActor
final class RuleStateStore {
    let store: WorkflowStore
    let context: PluginContext
    private var queue: [(sql: String, parameters: [SQLValue])] = []
    private var committing = false
    private var failures = 0

    init(store: WorkflowStore, context: PluginContext) {
        self.store = store
        self.context = context
    }

    /// Upsert tails valid on SQLite and PostgreSQL (`INSERT OR REPLACE` is SQLite's alone).
    static let replaceKey = " ON CONFLICT (rule, kind, key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at"
    static let replaceBatchItem = " ON CONFLICT (rule, batch, seq) DO UPDATE SET key = excluded.key, opened = excluded.opened, item = excluded.item"

    /// Queues the statements that store `changes`.
    func record(_ changes: [RouterStateChange]) {
        for change in changes {
            switch change {
            case let .seen(rule, key, at):
                queue.append(("INSERT INTO rule_keys (rule, kind, key, tokens, at) VALUES (?, 'seen', ?, NULL, ?)" + Self.replaceKey, [.text(rule), .text(key), .integer(at)]))
            case let .bucket(rule, key, tokens, at):
                queue.append(("INSERT INTO rule_keys (rule, kind, key, tokens, at) VALUES (?, 'bucket', ?, ?, ?)" + Self.replaceKey, [.text(rule), .text(key), .real(tokens), .integer(at)]))
            case let .batchItem(rule, key, batch, opened, index, item):
                queue.append(("INSERT INTO rule_batches (rule, batch, key, seq, opened, item) VALUES (?, ?, ?, ?, ?, ?)" + Self.replaceBatchItem,
                              [.text(rule), .integer(batch), .text(key), .integer(Int64(index)), .integer(opened), .text(item.text)]))
            case .batchClosed:
                break   // deleted once published (``published(rule:batch:)``)
            case let .forgetSeen(rule, before):
                queue.append(("DELETE FROM rule_keys WHERE rule = ? AND kind = 'seen' AND at < ?", [.text(rule), .integer(before)]))
            case let .forgetBuckets(rule):
                queue.append(("DELETE FROM rule_keys WHERE rule = ? AND kind = 'bucket'", [.text(rule)]))
            }
        }
        kick()
    }

    /// Forgets a batch once it was published.
    func published(rule: String, batch: Int64) {
        queue.append(("DELETE FROM rule_batches WHERE rule = ? AND batch = ?", [.text(rule), .integer(batch)]))
        kick()
    }

    /// Forgets every key and bucket (the rule set changed; open batches were published first).
    func forgetKeys() {
        queue.append(("DELETE FROM rule_keys", []))
        kick()
    }

    private func kick() {
        if !committing, !queue.isEmpty { Task { await commit() } }
    }

    private func commit() async {
        guard !committing else { return }
        committing = true
        defer { committing = false }
        while !queue.isEmpty {
            let batch = queue
            queue = []
            do {
                try await store.transaction(batch)
                failures = 0
            } catch {
                failures += 1
                let pause = min(5_000, 100 << min(failures, 6))
                context.logger.error("routing state commit failed; retrying", metadata: ["error": "\(error)", "statements": "\(batch.count)", "retry_ms": "\(pause)"])
                queue = batch + queue
                context.timers.schedule(after: .milliseconds(pause)) { [weak self] in Task { await self?.commit() } }
                return
            }
        }
    }

    /// The stored state, oldest batch items first, as changes for ``Router/restore(_:now:)``.
    func load() async throws -> [RouterStateChange] {
        var changes: [RouterStateChange] = []
        for row in try await store.storage.query("SELECT rule, kind, key, tokens, at FROM rule_keys", []) {
            let (rule, kind, key, at) = (row[0].text ?? "", row[1].text ?? "", row[2].text ?? "", row[4].integer ?? 0)
            if kind == "seen" { changes.append(.seen(rule: rule, key: key, at: at)) }
            else if case let .real(tokens) = row[3] { changes.append(.bucket(rule: rule, key: key, tokens: tokens, at: at)) }
        }
        for row in try await store.storage.query("SELECT rule, key, batch, opened, seq, item FROM rule_batches ORDER BY batch, seq", []) {
            changes.append(.batchItem(rule: row[0].text ?? "", key: row[1].text ?? "", batch: row[2].integer ?? 0, opened: row[3].integer ?? 0,
                                      index: Int(row[4].integer ?? 0), item: JSON.parse(row[5].text ?? "") ?? .null))
        }
        return changes
    }

    /// Deletes what belongs to no rule in `rules`, and de-duplication keys seen before each rule's `expiredBefore`.
    func prune(keeping rules: [(name: String, expiredBefore: Int64?)]) {
        let marks = rules.map { _ in "?" }.joined(separator: ", ")
        let values = rules.map { SQLValue.text($0.name) }
        let filter = rules.isEmpty ? "" : " WHERE rule NOT IN (\(marks))"
        queue.append(("DELETE FROM rule_keys" + filter, values))
        queue.append(("DELETE FROM rule_batches" + filter, values))
        for rule in rules {
            if let before = rule.expiredBefore {
                queue.append(("DELETE FROM rule_keys WHERE rule = ? AND kind = 'seen' AND at < ?", [.text(rule.name), .integer(before)]))
            }
        }
        kick()
    }
}
