/// Reads a Vega-Lite subset document into a ``ChartSpec``, refusing everything outside the subset with
/// the JSON path of the unsupported part.
public struct SpecParser {
    /// How deep `layer` may nest (a layer inside a layer inside ...).
    public var maxLayerDepth = 4
    /// The most layers in the whole chart.
    public var maxLayers = 32

    public init() {}

    private var layerCount = 0

    /// The keys a single view takes at the top level.
    static let viewKeys: Set<String> = ["$schema", "description", "title", "width", "height", "data", "transform",
                                        "mark", "encoding", "layer", "background", "padding", "timeZone"]
    /// The keys that make a composition.
    static let compositionKeys = ["facet", "hconcat", "vconcat", "concat"]

    /// Parses a spec document.
    public mutating func parse(_ json: JSONValue) throws(ChartError) -> ChartSpec {
        let top = try members(json, "$", allowed: Self.viewKeys.union(Self.compositionKeys).union(["spec", "columns"]))
        let composed = Self.compositionKeys.filter { top[$0] != nil }
        var spec: ChartSpec
        if let kind = composed.first {
            guard composed.count == 1 else { throw ChartError(.unsupported, path: "$.\(composed[1])", "give only one of facet, hconcat, vconcat and concat") }
            spec = try composition(kind, top)
        } else {
            if let stray = ["spec", "columns"].first(where: { top[$0] != nil }) {
                throw ChartError(.unsupported, path: "$.\(stray)", "'\(stray)' goes with facet or concat only")
            }
            spec = try view(top, path: "$")
            guard spec.root.data != nil else { throw ChartError(.invalid, path: "$.data", "the chart has no data (give \"data\": {\"values\": [...]})") }
        }
        if let zone = top["timeZone"] {
            let name = try string(zone, "$.timeZone")
            guard let clock = ZoneClock(identifier: name) else {
                throw ChartError(.invalid, path: "$.timeZone", "'\(name.prefix(64))' is not an IANA time zone (such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\")")
            }
            spec.clock = clock
            if case .concat(var parts, let columns)? = spec.composition {
                for index in parts.indices { parts[index].clock = clock }
                spec.composition = .concat(parts, columns: columns)
            }
        }
        return spec
    }

    /// One view (a mark or layers) with its title and size.
    mutating func view(_ object: [String: JSONValue], path: String) throws(ChartError) -> ChartSpec {
        var spec = ChartSpec(title: try Self.title(object["title"], path: path + ".title"), root: try layer(object, path: path, depth: 0))
        if let width = object["width"] { spec.width = try bounded(width, path + ".width", 10...4000) }
        if let height = object["height"] { spec.height = try bounded(height, path + ".height", 10...4000) }
        return spec
    }

    /// A title: a string or `{"text": ...}`.
    static func title(_ value: JSONValue?, path: String) throws(ChartError) -> String? {
        guard let value else { return nil }
        switch value {
        case .string(let text): return text
        case .object:
            let object = try members(value, path, allowed: ["text"])
            return try string(object["text"], path + ".text")
        default: throw ChartError(.unsupported, path: path, "must be a string or {\"text\": ...}, not \(value.typeName)")
        }
    }

    mutating func layer(_ object: [String: JSONValue], path: String, depth: Int) throws(ChartError) -> LayerSpec {
        layerCount += 1
        guard layerCount <= maxLayers else { throw ChartError(.tooLarge, path: path, "more than \(maxLayers) layers") }
        var spec = LayerSpec(path: path)
        if let data = object["data"] { spec.data = try dataSource(data, path + ".data") }
        if let transforms = object["transform"] {
            guard case .array(let items) = transforms else { throw ChartError(.unsupported, path: path + ".transform", "must be an array") }
            for (index, item) in items.enumerated() {
                spec.transforms.append(try TransformParser.parse(item, path: "\(path).transform[\(index)]"))
            }
        }
        if let encoding = object["encoding"] {
            let channels = try members(encoding, path + ".encoding", allowed: Set(Channel.allCases.map(\.rawValue)))
            for (name, value) in channels {
                spec.encoding[Channel(rawValue: name)!] = try FieldDefParser.parse(value, path: "\(path).encoding.\(name)")
            }
        }
        if let layers = object["layer"] {
            guard depth < maxLayerDepth else {
                throw ChartError(.tooLarge, path: path + ".layer", "layers nest deeper than \(maxLayerDepth) levels (a cyclic or runaway layer)")
            }
            guard case .array(let items) = layers, !items.isEmpty else { throw ChartError(.unsupported, path: path + ".layer", "must be a non-empty array") }
            if object["mark"] != nil { throw ChartError(.unsupported, path: path + ".mark", "a view with \"layer\" takes its marks from its layers") }
            for (index, item) in items.enumerated() {
                let childPath = "\(path).layer[\(index)]"
                let child = try members(item, childPath, allowed: ["data", "transform", "mark", "encoding", "layer", "description"])
                spec.layers.append(try layer(child, path: childPath, depth: depth + 1))
            }
        } else {
            guard let mark = object["mark"] else { throw ChartError(.invalid, path: path + ".mark", "missing (a view needs a mark or a layer)") }
            spec.mark = try markSpec(mark, path + ".mark")
        }
        return spec
    }

    func dataSource(_ value: JSONValue, _ path: String) throws(ChartError) -> DataSource {
        let object = try members(value, path, allowed: ["values", "name", "topic", "last", "minutes", "field", "as", "service", "payload"])
        let given = Set(object.keys)
        func only(_ allowed: Set<String>, _ form: String) throws(ChartError) {
            if let extra = given.subtracting(allowed).sorted().first {
                throw ChartError(.unsupported, path: "\(path).\(extra)", "'\(extra)' does not go with \(form) data")
            }
        }
        if object["topic"] != nil {
            try only(["topic", "last", "minutes", "field", "as"], "topic")
            return .external(.topic(try ExternalSourceParser.topic(object, path)), path: path + ".topic")
        }
        if object["service"] != nil {
            try only(["service", "payload"], "service")
            return .external(try ExternalSourceParser.service(object, path), path: path + ".service")
        }
        if let values = object["values"] {
            try only(["values"], "inline")
            switch values {
            case .array, .rows: return .values(values, path: path + ".values")
            default: throw ChartError(.unsupported, path: path + ".values", "must be an array of objects")
            }
        }
        if let name = object["name"] {
            try only(["name"], "named")
            return .external(.named(try string(name, path + ".name")), path: path + ".name")
        }
        throw ChartError(.unsupported, path: path, "give \"values\" (inline rows), \"name\" (a stored data set), \"topic\" (recent bus events) or \"service\" (another plugin's answer); url data is not supported")
    }

    private func markSpec(_ value: JSONValue, _ path: String) throws(ChartError) -> MarkSpec {
        func type(_ name: JSONValue?, _ at: String) throws(ChartError) -> MarkType {
            let text = try string(name, at)
            guard let mark = MarkType(rawValue: text) else {
                throw ChartError(.unsupported, path: at, "unknown mark '\(text)'; supported: \(MarkType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return mark
        }
        if case .string = value { return MarkSpec(type: try type(value, path)) }
        let object = try members(value, path, allowed: ["type", "color", "opacity", "strokeWidth", "innerRadius", "size", "tooltip", "point"])
        var mark = MarkSpec(type: try type(object["type"], path + ".type"))
        if let color = object["color"] { mark.color = try Colors.validated(try string(color, path + ".color"), path: path + ".color") }
        if let opacity = object["opacity"] { mark.opacity = try bounded(opacity, path + ".opacity", 0...1) }
        if let width = object["strokeWidth"] { mark.strokeWidth = try bounded(width, path + ".strokeWidth", 0...50) }
        if let inner = object["innerRadius"] { mark.innerRadius = try bounded(inner, path + ".innerRadius", 0...2000) }
        if let size = object["size"] { mark.size = try bounded(size, path + ".size", 0...10000) }
        if let tooltip = object["tooltip"] {
            switch tooltip {
            case .bool(let on): mark.tooltip = on
            case .null: mark.tooltip = false
            case .object:
                let content = try members(tooltip, path + ".tooltip", allowed: ["content"])
                guard let kind = content["content"], kind == .string("encoding") || kind == .string("data") else {
                    throw ChartError(.unsupported, path: path + ".tooltip.content", "must be \"encoding\" or \"data\"")
                }
                mark.tooltip = true
            default: throw ChartError(.unsupported, path: path + ".tooltip", "must be true, false, null or {\"content\": \"encoding\"}, not \(tooltip.typeName)")
            }
        }
        return mark
    }
}

// MARK: Shared readers

/// An object's members keyed by name, refusing keys outside `allowed` with their path.
func members(_ value: JSONValue, _ path: String, allowed: Set<String>) throws(ChartError) -> [String: JSONValue] {
    guard case .object(let list) = value else { throw ChartError(.unsupported, path: path, "must be an object, not \(value.typeName)") }
    var result: [String: JSONValue] = [:]
    for (key, member) in list {
        guard allowed.contains(key) else {
            throw ChartError(.unsupported, path: "\(path).\(key)", "'\(key)' is not part of the supported Vega-Lite subset here (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        result[key] = member
    }
    return result
}

/// A required string.
func string(_ value: JSONValue?, _ path: String) throws(ChartError) -> String {
    guard let value else { throw ChartError(.invalid, path: path, "missing") }
    guard case .string(let text) = value else { throw ChartError(.unsupported, path: path, "must be a string, not \(value.typeName)") }
    return text
}

/// A number inside `range`.
func bounded(_ value: JSONValue, _ path: String, _ range: ClosedRange<Double>) throws(ChartError) -> Double {
    guard case .number(let number) = value else { throw ChartError(.unsupported, path: path, "must be a number, not \(value.typeName)") }
    guard range.contains(number) else { throw ChartError(.invalid, path: path, "\(number) is outside \(range.lowerBound)...\(range.upperBound)") }
    return number
}

/// An array of strings.
func strings(_ value: JSONValue?, _ path: String) throws(ChartError) -> [String] {
    guard let value else { return [] }
    if case .string(let single) = value { return [single] }
    guard case .array(let items) = value else { throw ChartError(.unsupported, path: path, "must be an array of strings") }
    var result: [String] = []
    for (index, item) in items.enumerated() { result.append(try string(item, "\(path)[\(index)]")) }
    return result
}
