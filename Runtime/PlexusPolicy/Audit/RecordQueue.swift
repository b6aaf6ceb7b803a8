/// A first-in first-out queue of audit records: an array with a moving head, compacted when the
/// consumed part grows larger than the live part.
struct RecordQueue {
    private var items: [AuditRecord] = []
    private var head = 0

    /// Records queued.
    var count: Int { items.count - head }
    /// Whether nothing is queued.
    var isEmpty: Bool { head == items.count }
    /// The oldest record.
    var first: AuditRecord? { isEmpty ? nil : items[head] }

    /// Queues a record at the back.
    mutating func append(_ record: AuditRecord) { items.append(record) }

    /// Removes and returns the oldest record.
    mutating func popFirst() -> AuditRecord? {
        guard !isEmpty else { return nil }
        let record = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return record
    }

    /// Puts records back at the front, in the order given (they must be older than those queued).
    mutating func prepend(_ records: [AuditRecord]) {
        guard !records.isEmpty else { return }
        items = records + items[head...]
        head = 0
    }
}
