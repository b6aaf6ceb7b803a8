/// Reads one entry of `transform`.
enum TransformParser {
    static func parse(_ value: JSONValue, path: String) throws(ChartError) -> Transform {
        guard case .object(let list) = value, let kind = list.first?.key else {
            throw ChartError(.unsupported, path: path, "must be an object naming one transform")
        }
        switch kind {
        case "filter":
            let object = try members(value, path, allowed: ["filter"])
            return .filter(try Expression.parse(try string(object["filter"], path + ".filter"), path: path + ".filter"))
        case "calculate":
            let object = try members(value, path, allowed: ["calculate", "as"])
            return .calculate(try Expression.parse(try string(object["calculate"], path + ".calculate"), path: path + ".calculate"),
                              as: try string(object["as"], path + ".as"))
        case "aggregate":
            let object = try members(value, path, allowed: ["aggregate", "groupby"])
            guard case .array(let items)? = object["aggregate"] else { throw ChartError(.unsupported, path: path + ".aggregate", "must be an array") }
            var fields: [AggregateField] = []
            for (index, item) in items.enumerated() {
                let at = "\(path).aggregate[\(index)]"
                let spec = try members(item, at, allowed: ["op", "field", "as"])
                let name = try string(spec["op"], at + ".op")
                guard let op = AggregateOp(rawValue: name) else { throw ChartError(.unsupported, path: at + ".op", "unknown aggregate '\(name)'") }
                let field = try spec["field"].map { v throws(ChartError) in try string(v, at + ".field") }
                if op != .count, field == nil { throw ChartError(.invalid, path: at + ".field", "missing (\(name) needs a field)") }
                fields.append(AggregateField(op: op, field: field, name: try string(spec["as"], at + ".as")))
            }
            return .aggregate(fields, groupby: try strings(object["groupby"], path + ".groupby"))
        case "fold":
            let object = try members(value, path, allowed: ["fold", "as"])
            let fields = try strings(object["fold"], path + ".fold")
            let names = object["as"] == nil ? ["key", "value"] : try strings(object["as"], path + ".as")
            guard names.count == 2 else { throw ChartError(.invalid, path: path + ".as", "must name two fields: [key, value]") }
            return .fold(fields, as: (names[0], names[1]))
        case "window":
            let object = try members(value, path, allowed: ["window", "sort", "groupby", "frame"])
            if let frame = object["frame"], frame != .array([.null, .number(0)]) {
                throw ChartError(.unsupported, path: path + ".frame", "only the running frame [null, 0] is supported")
            }
            guard case .array(let items)? = object["window"] else { throw ChartError(.unsupported, path: path + ".window", "must be an array") }
            var fields: [WindowField] = []
            for (index, item) in items.enumerated() {
                let at = "\(path).window[\(index)]"
                let spec = try members(item, at, allowed: ["op", "field", "as"])
                let name = try string(spec["op"], at + ".op")
                guard let op = WindowOp(rawValue: name) else {
                    throw ChartError(.unsupported, path: at + ".op", "unknown window op '\(name)'; supported: sum, count, row_number, rank")
                }
                let field = try spec["field"].map { v throws(ChartError) in try string(v, at + ".field") }
                if op == .sum, field == nil { throw ChartError(.invalid, path: at + ".field", "missing (sum needs a field)") }
                fields.append(WindowField(op: op, field: field, name: try string(spec["as"], at + ".as")))
            }
            var sort: [(field: String, descending: Bool)] = []
            if case .array(let items)? = object["sort"] {
                for (index, item) in items.enumerated() {
                    let at = "\(path).sort[\(index)]"
                    let spec = try members(item, at, allowed: ["field", "order"])
                    let order = try spec["order"].map { v throws(ChartError) in try string(v, at + ".order") } ?? "ascending"
                    sort.append((try string(spec["field"], at + ".field"), order == "descending"))
                }
            }
            return .window(fields, sort: sort, groupby: try strings(object["groupby"], path + ".groupby"))
        default:
            throw ChartError(.unsupported, path: "\(path).\(kind)", "transform '\(kind)' is not supported; supported: filter, calculate, aggregate, fold, window")
        }
    }
}
