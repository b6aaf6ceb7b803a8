/// Applies transforms to a table, checking that every field they read exists.
enum TransformRunner {
    static func apply(_ transforms: [Transform], to input: DataTable, path: String) throws(ChartError) -> DataTable {
        var table = input
        for (index, transform) in transforms.enumerated() {
            let at = "\(path).transform[\(index)]"
            switch transform {
            case .filter(let expression):
                try requireFields(expression.fields, in: table, at + ".filter")
                let rows = (0..<table.count).filter { row in expression.evaluate { table.value($0, row) }.truthy }
                table = table.selecting(rows)
            case .calculate(let expression, let name):
                try requireFields(expression.fields, in: table, at + ".calculate")
                let values = (0..<table.count).map { row in expression.evaluate { table.value($0, row) } }
                table.set(name, values)
            case .aggregate(let fields, let groupby):
                try requireFields(Set(groupby + fields.compactMap(\.field)), in: table, at)
                table = aggregate(table, fields, groupby: groupby)
            case .fold(let fields, let names):
                try requireFields(Set(fields), in: table, at + ".fold")
                table = fold(table, fields, as: names)
            case .window(let fields, let sort, let groupby):
                try requireFields(Set(groupby + sort.map(\.field) + fields.compactMap(\.field)), in: table, at)
                table = window(table, fields, sort: sort, groupby: groupby)
            }
        }
        return table
    }

    static func requireFields(_ fields: Set<String>, in table: DataTable, _ path: String) throws(ChartError) {
        for field in fields.sorted() where table.index(of: field) == nil {
            throw ChartError(.invalid, path: path, "field '\(field)' is not in the data (fields: \(table.names.joined(separator: ", ")))")
        }
    }

    /// Rows grouped by the values of `fields`, groups in order of first appearance.
    static func groups(_ table: DataTable, by fields: [String]) -> [(key: [DataValue], rows: [Int])] {
        let columns = fields.compactMap { table.index(of: $0) }.map { table.values(at: $0) }
        var position: [[DataValue]: Int] = [:]
        var result: [(key: [DataValue], rows: [Int])] = []
        for row in 0..<table.count {
            let key = columns.map { $0[row] }
            if let at = position[key] { result[at].rows.append(row) } else {
                position[key] = result.count
                result.append((key, [row]))
            }
        }
        return result
    }

    static func aggregate(_ table: DataTable, _ fields: [AggregateField], groupby: [String]) -> DataTable {
        let grouped = groups(table, by: groupby)
        var result = DataTable(count: grouped.count)
        for (index, name) in groupby.enumerated() { result.set(name, grouped.map { $0.key[index] }) }
        for field in fields {
            let column = field.field.flatMap { table.index(of: $0) }.map { table.values(at: $0) }
            result.set(field.name, grouped.map { group in
                .number(reduce(field.op, group.rows.map { column?[$0].number ?? .nan }))
            })
        }
        return result
    }

    /// One aggregate over numbers (NaN entries, i.e. missing values, are skipped except by count).
    static func reduce(_ op: AggregateOp, _ values: [Double]) -> Double {
        if op == .count { return Double(values.count) }
        let valid = values.filter { !$0.isNaN }
        switch op {
        case .count: return Double(values.count)
        case .sum: return valid.reduce(0, +)
        case .mean, .average: return valid.isEmpty ? .nan : valid.reduce(0, +) / Double(valid.count)
        case .min: return valid.min() ?? .nan
        case .max: return valid.max() ?? .nan
        case .median:
            guard !valid.isEmpty else { return .nan }
            let sorted = valid.sorted()
            let mid = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        }
    }

    static func fold(_ table: DataTable, _ fields: [String], as names: (String, String)) -> DataTable {
        let rows = (0..<table.count).flatMap { row in Array(repeating: row, count: fields.count) }
        var result = table.selecting(rows)
        result.set(names.0, rows.indices.map { .string(fields[$0 % fields.count]) })
        result.set(names.1, rows.enumerated().map { index, row in table.value(fields[index % fields.count], row) })
        return result
    }

    static func window(_ table: DataTable, _ fields: [WindowField], sort: [(field: String, descending: Bool)],
                       groupby: [String]) -> DataTable {
        var result = table
        var outputs = fields.map { _ in [DataValue](repeating: .null, count: table.count) }
        for group in groups(table, by: groupby) {
            let ordered = group.rows.sorted { a, b in
                for key in sort {
                    let x = table.value(key.field, a), y = table.value(key.field, b)
                    if x == y { continue }
                    let less = Ordering.less(x, y)
                    return key.descending ? !less : less
                }
                return a < b
            }
            for (fieldIndex, field) in fields.enumerated() {
                var running = 0.0, rank = 0
                var previous: [DataValue]?
                for (position, row) in ordered.enumerated() {
                    switch field.op {
                    case .sum: running += field.field.map { table.value($0, row).number ?? 0 } ?? 0
                    case .count: running += 1
                    case .row_number: running = Double(position + 1)
                    case .rank:
                        let key = sort.map { table.value($0.field, row) }
                        if key != previous { rank = position + 1; previous = key }
                        running = Double(rank)
                    }
                    outputs[fieldIndex][row] = .number(running)
                }
            }
        }
        for (field, values) in zip(fields, outputs) { result.set(field.name, values) }
        return result
    }
}

/// A total order on values for sorting: numbers before strings, numbers by value, strings by code point.
enum Ordering {
    static func less(_ a: DataValue, _ b: DataValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return x < y
        default: return rank(a) < rank(b)
        }
    }

    private static func rank(_ value: DataValue) -> Int {
        switch value {
        case .number: 0
        case .bool: 1
        case .string: 2
        case .null: 3
        }
    }
}
