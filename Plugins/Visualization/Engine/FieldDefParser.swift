/// Reads one encoding channel definition (`{"field", "type", "aggregate", ...}`).
enum FieldDefParser {
    static let allowed: Set<String> = ["field", "type", "aggregate", "bin", "timeUnit", "sort", "scale", "axis", "legend",
                                       "title", "value", "stack", "format"]

    static func parse(_ value: JSONValue, path: String) throws(ChartError) -> FieldDef {
        if case .array(let items) = value, path.hasSuffix(".tooltip") {
            guard !items.isEmpty else { throw ChartError(.unsupported, path: path, "an empty tooltip list") }
            guard items.count <= 16 else { throw ChartError(.tooLarge, path: path, "\(items.count) tooltip fields; at most 16") }
            var all: [FieldDef] = []
            for (index, item) in items.enumerated() {
                let def = try parse(item, path: "\(path)[\(index)]")
                guard def.field != nil else { throw ChartError(.invalid, path: "\(path)[\(index)].field", "missing (a tooltip entry names a field)") }
                all.append(def)
            }
            var first = all[0]
            first.tooltipItems = all
            return first
        }
        let object = try members(value, path, allowed: allowed)
        var def = FieldDef(path: path)
        if let field = object["field"] { def.field = try string(field, path + ".field") }
        if let value = object["value"] { def.value = value }
        if let aggregate = object["aggregate"] {
            let name = try string(aggregate, path + ".aggregate")
            guard let op = AggregateOp(rawValue: name) else {
                throw ChartError(.unsupported, path: path + ".aggregate", "unknown aggregate '\(name)'; supported: count, sum, mean, average, min, max, median")
            }
            def.aggregate = op
        }
        if let type = object["type"] {
            let name = try string(type, path + ".type")
            guard let fieldType = FieldType(rawValue: name) else {
                throw ChartError(.unsupported, path: path + ".type", "unknown type '\(name)'; supported: quantitative, temporal, ordinal, nominal")
            }
            def.type = fieldType
        } else if def.field != nil {
            throw ChartError(.invalid, path: path + ".type", "missing (quantitative, temporal, ordinal or nominal)")
        } else if def.aggregate == .count {
            def.type = .quantitative
        }
        guard def.field != nil || def.value != nil || def.aggregate == .count else {
            throw ChartError(.invalid, path: path + ".field", "missing (a channel needs a field, a value or aggregate count)")
        }
        if let bin = object["bin"] {
            guard case .bool(let on) = bin else { throw ChartError(.unsupported, path: path + ".bin", "only true or false is supported") }
            def.bin = on
        }
        if let unit = object["timeUnit"] {
            let name = try string(unit, path + ".timeUnit")
            guard let timeUnit = TimeUnit(rawValue: name) else {
                throw ChartError(.unsupported, path: path + ".timeUnit", "unknown time unit '\(name)'; supported: year, yearmonth, yearmonthdate, month, date, hours, minutes")
            }
            def.timeUnit = timeUnit
        }
        if let sort = object["sort"] { def.sort = try sortOrder(sort, path + ".sort") }
        if let scale = object["scale"] { try readScale(scale, path + ".scale", into: &def) }
        if let axis = object["axis"] { def.axis = try readAxis(axis, path + ".axis") }
        if let legend = object["legend"] {
            if case .null = legend { def.legend = nil } else {
                let legendObject = try members(legend, path + ".legend", allowed: ["title"])
                def.legend = LegendSpec(title: try legendObject["title"].map { v throws(ChartError) in try string(v, path + ".legend.title") })
            }
        }
        if let title = object["title"] { def.title = try string(title, path + ".title") }
        if let stack = object["stack"] {
            switch stack {
            case .null, .bool(false): def.stack = false
            case .bool(true), .string("zero"): def.stack = true
            default: throw ChartError(.unsupported, path: path + ".stack", "only null, false, true and \"zero\" are supported")
            }
        }
        if let format = object["format"] {
            var axis = def.axis ?? AxisSpec()
            axis.format = try string(format, path + ".format")
            def.axis = axis
        }
        return def
    }

    private static func sortOrder(_ value: JSONValue, _ path: String) throws(ChartError) -> SortOrder {
        switch value {
        case .null: return .none
        case .string("ascending"): return .ascending
        case .string("descending"): return .descending
        case .array: return .explicit(try strings(value, path))
        default: throw ChartError(.unsupported, path: path, "only \"ascending\", \"descending\", null or an array of values is supported")
        }
    }

    private static func readScale(_ value: JSONValue, _ path: String, into def: inout FieldDef) throws(ChartError) {
        let object = try members(value, path, allowed: ["domain", "zero", "nice", "type"])
        if let type = object["type"] {
            let name = try string(type, path + ".type")
            guard ["linear", "time", "utc", "band", "ordinal", "point"].contains(name) else {
                throw ChartError(.unsupported, path: path + ".type", "scale type '\(name)' is not supported (linear, time, utc, band, ordinal)")
            }
        }
        if let domain = object["domain"] {
            guard case .array(let items) = domain, items.count == 2, case .number(let low) = items[0], case .number(let high) = items[1], low < high else {
                throw ChartError(.unsupported, path: path + ".domain", "only a numeric [min, max] domain with min < max is supported")
            }
            def.domain = [low, high]
        }
        if let zero = object["zero"] {
            guard case .bool(let on) = zero else { throw ChartError(.unsupported, path: path + ".zero", "must be a boolean") }
            def.zero = on
        }
        if let nice = object["nice"] {
            guard case .bool(let on) = nice else { throw ChartError(.unsupported, path: path + ".nice", "must be a boolean") }
            def.nice = on
        }
    }

    private static func readAxis(_ value: JSONValue, _ path: String) throws(ChartError) -> AxisSpec? {
        if case .null = value { return nil }
        let object = try members(value, path, allowed: ["title", "format", "tickCount", "labelAngle", "grid"])
        var axis = AxisSpec()
        if let title = object["title"] { axis.title = try string(title, path + ".title") }
        if let format = object["format"] {
            axis.format = try string(format, path + ".format")
            _ = try NumberFormat(pattern: axis.format!, path: path + ".format")
        }
        if let count = object["tickCount"] { axis.tickCount = Int(try bounded(count, path + ".tickCount", 1...50)) }
        if let angle = object["labelAngle"] { axis.labelAngle = try bounded(angle, path + ".labelAngle", -90...90) }
        return axis
    }
}
