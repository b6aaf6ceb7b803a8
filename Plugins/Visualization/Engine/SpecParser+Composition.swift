/// Small multiples: `facet` (one cell per value, shared scales) and `hconcat`/`vconcat`/`concat`
/// (independent views). Parts may not nest further compositions.
extension SpecParser {
    /// The most cells of a facet or parts of a concat.
    static let maxParts = 64
    /// Keys of a facet's cell spec and of a concat's parts.
    static let cellKeys: Set<String> = ["transform", "mark", "encoding", "layer", "width", "height", "description"]
    static let partKeys: Set<String> = ["title", "data", "transform", "mark", "encoding", "layer", "width", "height", "description"]

    mutating func composition(_ kind: String, _ top: [String: JSONValue]) throws(ChartError) -> ChartSpec {
        for key in ["mark", "encoding", "layer"] where top[key] != nil {
            throw ChartError(.unsupported, path: "$.\(key)", "a \(kind) takes its marks from its \(kind == "facet" ? "spec" : "parts"), not from the top level")
        }
        var root = LayerSpec(path: "$")
        if let data = top["data"] { root.data = try dataSource(data, "$.data") }
        if let transforms = top["transform"] {
            guard case .array(let items) = transforms else { throw ChartError(.unsupported, path: "$.transform", "must be an array") }
            for (index, item) in items.enumerated() { root.transforms.append(try TransformParser.parse(item, path: "$.transform[\(index)]")) }
        }
        var spec = ChartSpec(title: try Self.title(top["title"], path: "$.title"), root: root)
        let columns = try top["columns"].map { value throws(ChartError) in Int(try bounded(value, "$.columns", 1...Double(Self.maxParts))) }
        if kind == "facet" {
            guard root.data != nil else { throw ChartError(.invalid, path: "$.data", "a facet needs data at the top level") }
            spec.composition = .facet(try facet(top, columns: columns, top: top))
            return spec
        }
        if columns != nil, kind != "concat" { throw ChartError(.unsupported, path: "$.columns", "'columns' goes with facet or concat, not \(kind)") }
        guard case .array(let items) = top[kind]!, !items.isEmpty else { throw ChartError(.unsupported, path: "$.\(kind)", "must be a non-empty array of views") }
        guard items.count <= Self.maxParts else { throw ChartError(.tooLarge, path: "$.\(kind)", "\(items.count) views; at most \(Self.maxParts)") }
        var parts: [ChartSpec] = []
        for (index, item) in items.enumerated() {
            let path = "$.\(kind)[\(index)]"
            var part = try view(try members(item, path, allowed: Self.partKeys), path: path)
            if part.root.data == nil, root.data == nil {
                throw ChartError(.invalid, path: path + ".data", "missing (give the view data, or give the \(kind) data at the top level)")
            }
            if top["width"] != nil, case .object(let list) = item, !list.contains(where: { $0.key == "width" }) { part.width = try bounded(top["width"]!, "$.width", 10...4000) }
            if top["height"] != nil, case .object(let list) = item, !list.contains(where: { $0.key == "height" }) { part.height = try bounded(top["height"]!, "$.height", 10...4000) }
            parts.append(part)
        }
        spec.composition = .concat(parts, columns: kind == "hconcat" ? parts.count : kind == "vconcat" ? 1 : (columns ?? parts.count))
        return spec
    }

    private mutating func facet(_ object: [String: JSONValue], columns: Int?, top: [String: JSONValue]) throws(ChartError) -> Facet {
        let value = object["facet"]!
        var wrap: FieldDef?, row: FieldDef?, column: FieldDef?
        if case .object(let list) = value, list.contains(where: { $0.key == "row" || $0.key == "column" }) {
            let grid = try members(value, "$.facet", allowed: ["row", "column"])
            row = try grid["row"].map { v throws(ChartError) in try Self.facetField(v, "$.facet.row") }
            column = try grid["column"].map { v throws(ChartError) in try Self.facetField(v, "$.facet.column") }
            if columns != nil { throw ChartError(.unsupported, path: "$.columns", "'columns' goes with a wrapped facet (facet: {\"field\": ...}), not with row and column") }
        } else {
            wrap = try Self.facetField(value, "$.facet")
        }
        guard let inner = object["spec"] else { throw ChartError(.invalid, path: "$.spec", "missing (a facet draws its spec once per cell)") }
        let cell = try members(inner, "$.spec", allowed: Self.cellKeys)
        let layer = try layer(cell, path: "$.spec", depth: 1)
        func size(_ key: String, _ fallback: Double) throws(ChartError) -> Double {
            if let value = cell[key] { return try bounded(value, "$.spec.\(key)", 10...4000) }
            if let value = top[key] { return try bounded(value, "$.\(key)", 10...4000) }
            return fallback
        }
        return Facet(wrap: wrap, row: row, column: column, columns: columns, cell: layer, cellWidth: try size("width", 220), cellHeight: try size("height", 180))
    }

    private static func facetField(_ value: JSONValue, _ path: String) throws(ChartError) -> FieldDef {
        let def = try FieldDefParser.parse(value, path: path)
        guard def.field != nil, def.aggregate == nil, !def.bin else {
            throw ChartError(.unsupported, path: path + ".field", "a facet needs a plain field (no aggregate, bin or value)")
        }
        return def
    }
}
