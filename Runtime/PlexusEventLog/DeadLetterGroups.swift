/// A consumer group and how many dead letters it holds (for an operator's overview).
public struct DeadLetterGroup: Sendable, Hashable {
    /// The consumer group.
    public let group: String
    /// Its dead letters.
    public let count: Int

    public init(group: String, count: Int) {
        self.group = group
        self.count = count
    }
}

extension ReaderCore {
    /// Every consumer group with its number of dead letters (0 included), by name.
    static func deadLetterGroups(_ db: SQLiteConnection) throws(EventLogError) -> [DeadLetterGroup] {
        let statement = try db.statement("""
            SELECT g.name, (SELECT COUNT(*) FROM dead_letters d WHERE d.group_name = g.name) FROM groups g ORDER BY g.name
            """)
        var result: [DeadLetterGroup] = []
        while try statement.step() { result.append(DeadLetterGroup(group: statement.string(0), count: statement.int(1))) }
        statement.reset()
        return result
    }
}
