/// Limits a chart must stay within; clients' numbers are bounded by these.
public struct ChartLimits: Sendable {
    /// The most rows of one data source (inline values or a named set).
    public var maxRows = 2_000_000
    public init() {}
}

/// Turns a parsed spec and its data into a ``Scene``: views, shared scales, marks, axes, legend, title.
public struct ChartCompiler {
    public var limits: ChartLimits
    /// External data (stored sets, topic windows, service answers) the host resolved beforehand.
    public var external: [ExternalSource: DataTable]

    public init(limits: ChartLimits = ChartLimits(), external: [ExternalSource: DataTable] = [:]) {
        self.limits = limits
        self.external = external
    }

    /// Builds the scene of `spec`.
    public func compile(_ spec: ChartSpec) throws(ChartError) -> Scene {
        switch spec.composition {
        case nil: return try compileView(spec, inherited: nil)
        case .facet(let facet): return try compileFacet(spec, facet)
        case .concat(let parts, let columns): return try compileConcat(spec, parts, columns: columns)
        }
    }

    /// One view; `inherited` is the data of a view without its own.
    func compileView(_ spec: ChartSpec, inherited: DataTable?) throws(ChartError) -> Scene {
        var views: [PreparedView] = []
        try collect(spec.root, table: inherited, encoding: [:], clock: spec.clock, into: &views)
        let layout = try Layout(spec: spec, views: views)
        var scene = Scene(width: spec.width, height: spec.height)
        if let title = spec.title {
            scene.items.append(.text(title, at: Point(spec.width / 2, 20), size: 15, color: "#222222", anchor: .middle, angle: 0, bold: true, role: "title"))
        }
        layout.drawAxes(into: &scene)
        for view in views { MarkPainter(view: view, layout: layout).paint(into: &scene) }
        layout.drawLegend(into: &scene)
        return scene
    }

    func collect(_ layer: LayerSpec, table inherited: DataTable?, encoding parent: [Channel: FieldDef], clock: ZoneClock,
                 into views: inout [PreparedView]) throws(ChartError) {
        let table = try self.table(of: layer, inherited: inherited)
        let encoding = parent.merging(layer.encoding) { _, own in own }
        if let mark = layer.mark {
            try Self.checkChannels(mark, encoding, path: layer.path)
            views.append(try PreparedView(path: layer.path, mark: mark, encoding: encoding, table: table, clock: clock))
        }
        for child in layer.layers { try collect(child, table: table, encoding: encoding, clock: clock, into: &views) }
    }

    /// A view's rows: its own data (or the inherited rows) after its transforms.
    func table(of layer: LayerSpec, inherited: DataTable?) throws(ChartError) -> DataTable {
        var table: DataTable
        switch layer.data {
        case .values(let values, let path)?: table = try DataTable.from(values: values, path: path, maxRows: limits.maxRows)
        case .external(let source, let path)?:
            guard let found = external[source] else {
                if case .named(let name) = source { throw ChartError(.invalid, path: path, "no data set named '\(name)'") }
                throw ChartError(.invalid, path: path, "this data source was not resolved")
            }
            guard found.count <= limits.maxRows else { throw ChartError(.tooLarge, path: path, "\(found.count) rows; the limit is \(limits.maxRows)") }
            table = found
        case nil:
            guard let inherited else { throw ChartError(.invalid, path: layer.path + ".data", "missing") }
            table = inherited
        }
        return try TransformRunner.apply(layer.transforms, to: table, path: layer.path)
    }

    /// The channels each mark needs.
    private static func checkChannels(_ mark: MarkSpec, _ encoding: [Channel: FieldDef], path: String) throws(ChartError) {
        func need(_ channel: Channel) throws(ChartError) {
            guard encoding[channel] != nil else {
                throw ChartError(.invalid, path: "\(path).encoding.\(channel.rawValue)", "missing (a \(mark.type.rawValue) mark needs \(channel.rawValue))")
            }
        }
        switch mark.type {
        case .arc: try need(.theta)
        case .rule: if encoding[.x] == nil && encoding[.y] == nil { try need(.y) }
        case .text: try need(.x); try need(.y); try need(.text)
        default: try need(.x); try need(.y)
        }
    }
}
