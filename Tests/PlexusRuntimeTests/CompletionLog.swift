import Foundation

/// Completions in the order they ran (written on the loop thread, read by the test).
final class CompletionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.withLock { items.append(item) } }
    var entries: [String] { lock.withLock { items } }
    var count: Int { lock.withLock { items.count } }
}
