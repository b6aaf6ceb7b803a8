/// Facets (cells sharing scales) and concats (independent views) laid out on one scene.
extension ChartCompiler {
    /// The largest composed scene, in pixels (width times height).
    static let maxComposedPixels = 16_000_000.0
    static let spacing = 10.0

    func compileFacet(_ spec: ChartSpec, _ facet: Facet) throws(ChartError) -> Scene {
        let table = try self.table(of: spec.root, inherited: nil)
        func keys(_ def: FieldDef?) throws(ChartError) -> (values: [DataValue], keys: [String]) {
            guard let def, let field = def.field else { return ([], [""]) }
            guard let at = table.index(of: field) else {
                throw ChartError(.invalid, path: def.path + ".field", "field '\(field)' is not in the data (fields: \(table.names.joined(separator: ", ")))")
            }
            let values = table.values(at: at)
            return (values, Layout.discrete(values, sort: def.sort))
        }
        // Cells in reading order: a label and its rows.
        var cells: [(label: String, rows: [Int])] = []
        let columns: Int
        if let wrap = facet.wrap {
            let (values, names) = try keys(wrap)
            guard names.count <= SpecParser.maxParts else { throw ChartError(.tooLarge, path: "$.facet", "\(names.count) cells; at most \(SpecParser.maxParts)") }
            var rows = [String: [Int]]()
            for (row, value) in values.enumerated() { rows[value.text, default: []].append(row) }
            cells = names.map { ($0, rows[$0] ?? []) }
            columns = min(max(1, cells.count), facet.columns ?? cells.count)
        } else {
            let (rowValues, rowNames) = try keys(facet.row), (columnValues, columnNames) = try keys(facet.column)
            guard rowNames.count * columnNames.count <= SpecParser.maxParts else {
                throw ChartError(.tooLarge, path: "$.facet", "\(rowNames.count * columnNames.count) cells; at most \(SpecParser.maxParts)")
            }
            var rows = [String: [Int]]()
            for row in 0..<table.count {
                let key = (rowValues.isEmpty ? "" : rowValues[row].text) + "\u{0}" + (columnValues.isEmpty ? "" : columnValues[row].text)
                rows[key, default: []].append(row)
            }
            for r in rowNames { for c in columnNames { cells.append(([r, c].filter { !$0.isEmpty }.joined(separator: " · "), rows[r + "\u{0}" + c] ?? [])) } }
            columns = columnNames.count
        }
        let rowCount = (cells.count + columns - 1) / columns
        let titleRoom = spec.title == nil ? 0.0 : 30.0
        let width = Double(columns) * facet.cellWidth, height = Double(rowCount) * facet.cellHeight + titleRoom
        guard width * height <= Self.maxComposedPixels else {
            throw ChartError(.tooLarge, path: "$.facet", "\(Int(width)) x \(Int(height)) pixels; at most \(Int(Self.maxComposedPixels)) in all (smaller cells or fewer of them)")
        }
        // Every cell's views first: the scales are shared, so the layout sees them all.
        var views: [[PreparedView]] = []
        for cell in cells {
            var own: [PreparedView] = []
            try collect(facet.cell, table: table.selecting(cell.rows), encoding: [:], clock: spec.clock, into: &own)
            views.append(own)
        }
        var cellSpec = ChartSpec(title: "", width: facet.cellWidth, height: facet.cellHeight, clock: spec.clock, root: facet.cell)
        cellSpec.composition = nil
        let layout = try Layout(spec: cellSpec, views: views.flatMap { $0 })
        var scene = Scene(width: width, height: height)
        if let title = spec.title {
            scene.items.append(.text(title, at: Point(width / 2, 20), size: 15, color: "#222222", anchor: .middle, angle: 0, bold: true, role: "title"))
        }
        for (index, cell) in cells.enumerated() {
            var part = Scene(width: facet.cellWidth, height: facet.cellHeight)
            part.items.append(.text(cell.label, at: Point(layout.plot.x + layout.plot.width / 2, 22), size: 12, color: "#333333",
                                    anchor: .middle, angle: 0, bold: true, role: "facet-label"))
            layout.drawAxes(into: &part)
            for view in views[index] { MarkPainter(view: view, layout: layout).paint(into: &part) }
            if index == columns - 1 || (cells.count < columns && index == cells.count - 1) { layout.drawLegend(into: &part) }
            scene.append(part, dx: Double(index % columns) * facet.cellWidth, dy: titleRoom + Double(index / columns) * facet.cellHeight)
        }
        return scene
    }

    func compileConcat(_ spec: ChartSpec, _ parts: [ChartSpec], columns: Int) throws(ChartError) -> Scene {
        let shared = spec.root.data == nil ? nil : try table(of: spec.root, inherited: nil)
        var scenes: [Scene] = []
        for part in parts { scenes.append(try compileView(part, inherited: shared)) }
        let titleRoom = spec.title == nil ? 0.0 : 30.0
        // Rows of `columns` parts; each row as tall as its tallest part.
        var placed: [(dx: Double, dy: Double)] = [], y = titleRoom, width = 0.0
        for start in stride(from: 0, to: scenes.count, by: columns) {
            let row = scenes[start..<min(scenes.count, start + columns)]
            var x = 0.0
            for part in row { placed.append((x, y)); x += part.width + Self.spacing }
            width = max(width, x - Self.spacing)
            y += (row.map(\.height).max() ?? 0) + Self.spacing
        }
        let height = y - Self.spacing
        guard width * height <= Self.maxComposedPixels else {
            throw ChartError(.tooLarge, path: "$", "\(Int(width)) x \(Int(height)) pixels; at most \(Int(Self.maxComposedPixels)) in all (smaller or fewer views)")
        }
        var scene = Scene(width: width, height: height)
        if let title = spec.title {
            scene.items.append(.text(title, at: Point(width / 2, 20), size: 15, color: "#222222", anchor: .middle, angle: 0, bold: true, role: "title"))
        }
        for (part, at) in zip(scenes, placed) { scene.append(part, dx: at.dx, dy: at.dy) }
        return scene
    }
}

extension Scene {
    /// Adds `other`'s items (and tooltips) moved by `dx`, `dy`.
    mutating func append(_ other: Scene, dx: Double, dy: Double) {
        let base = items.count
        items.reserveCapacity(base + other.items.count)
        for item in other.items { items.append(item.translated(dx, dy)) }
        for (index, text) in other.tooltips { tooltips[base + index] = text }
    }
}

extension SceneItem {
    /// The item moved by `dx`, `dy`.
    func translated(_ dx: Double, _ dy: Double) -> SceneItem {
        switch self {
        case .rect(let x, let y, let w, let h, let paint, let role): .rect(x: x + dx, y: y + dy, width: w, height: h, paint: paint, role: role)
        case .polyline(let points, let closed, let paint, let role): .polyline(points.map { Point($0.x + dx, $0.y + dy) }, closed: closed, paint: paint, role: role)
        case .circle(let c, let r, let paint, let role): .circle(center: Point(c.x + dx, c.y + dy), radius: r, paint: paint, role: role)
        case .wedge(let c, let inner, let outer, let start, let end, let paint, let role):
            .wedge(center: Point(c.x + dx, c.y + dy), inner: inner, outer: outer, start: start, end: end, paint: paint, role: role)
        case .text(let text, let at, let size, let color, let anchor, let angle, let bold, let role):
            .text(text, at: Point(at.x + dx, at.y + dy), size: size, color: color, anchor: anchor, angle: angle, bold: bold, role: role)
        }
    }
}
