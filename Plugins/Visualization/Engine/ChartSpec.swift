/// The parsed chart: the supported Vega-Lite subset, every part validated.
public struct ChartSpec: Sendable {
    public var title: String?
    public var width: Double = 400
    public var height: Double = 300
    /// The wall clock of time axes and `timeUnit` (the spec's `timeZone`, an IANA identifier; default UTC).
    public var clock: ZoneClock = .utc
    /// The view (for a facet: the shared data and transforms; for a concat: data its parts may inherit).
    public var root: LayerSpec
    /// Small multiples: a facet or a concat of views (nil for a single view).
    public var composition: Composition?

    /// Every external data source of the chart and its parts.
    public var externalSources: Set<ExternalSource> {
        var sources = root.externalSources
        switch composition {
        case .facet(let facet)?: sources.formUnion(facet.cell.externalSources)
        case .concat(let parts, _)?: for part in parts { sources.formUnion(part.externalSources) }
        case nil: break
        }
        return sources
    }
}

/// Small multiples.
public enum Composition: Sendable {
    /// One cell per value of a field (or per row and column value), all sharing scales.
    case facet(Facet)
    /// Independent views side by side (`hconcat`), stacked (`vconcat`) or wrapped after `columns` (`concat`).
    case concat([ChartSpec], columns: Int)
}

/// A facet: the cell spec drawn once per group of rows.
public struct Facet: Sendable {
    /// `facet: {"field": ...}`: cells wrapped after `columns`.
    public var wrap: FieldDef?
    /// `facet: {"row": ..., "column": ...}`: a grid.
    public var row: FieldDef?
    public var column: FieldDef?
    public var columns: Int?
    public var cell: LayerSpec
    public var cellWidth: Double
    public var cellHeight: Double
}

/// One view: its data, transforms, mark and encodings, or child layers that share its data and encodings.
public struct LayerSpec: Sendable {
    public var path: String
    public var data: DataSource?
    public var transforms: [Transform] = []
    public var mark: MarkSpec?
    public var encoding: [Channel: FieldDef] = [:]
    public var layers: [LayerSpec] = []
}

/// Where rows come from.
public enum DataSource: Sendable {
    /// Inline `values`.
    case values(JSONValue, path: String)
    /// A data set the host resolves beforehand: a stored set, a topic window or a service's answer.
    case external(ExternalSource, path: String)
}

/// The drawable marks.
public enum MarkType: String, Sendable, CaseIterable {
    case line, area, bar, point, rect, arc, rule, text
}

/// A mark and its fixed properties.
public struct MarkSpec: Sendable {
    public var type: MarkType
    public var color: String?
    public var opacity: Double?
    public var strokeWidth: Double?
    public var innerRadius: Double?
    public var size: Double?
    /// `"tooltip": true`: every encoded field of a mark in its tooltip.
    public var tooltip = false
}

/// Encoding channels.
public enum Channel: String, Sendable, CaseIterable {
    case x, y, x2, y2, color, size, opacity, tooltip, theta, text, xOffset, yOffset
}

/// Vega-Lite measurement types.
public enum FieldType: String, Sendable {
    case quantitative, temporal, ordinal, nominal

    var isDiscrete: Bool { self == .ordinal || self == .nominal }
}

/// Aggregate operations in encodings and the aggregate transform.
public enum AggregateOp: String, Sendable {
    case count, sum, mean, average, min, max, median
}

/// Calendar units for `timeUnit`.
public enum TimeUnit: String, Sendable {
    case year, yearmonth, yearmonthdate, month, date, hours, minutes
}

/// Sort order of a discrete axis.
public enum SortOrder: Sendable {
    case ascending, descending, none
    case explicit([String])
}

/// One encoding channel's definition.
public struct FieldDef: Sendable {
    public var path: String
    public var field: String?
    public var type: FieldType = .nominal
    public var aggregate: AggregateOp?
    public var bin: Bool = false
    public var timeUnit: TimeUnit?
    public var sort: SortOrder = .ascending
    public var domain: [Double]?
    public var zero: Bool?
    public var nice: Bool = true
    public var axis: AxisSpec? = AxisSpec()
    public var legend: LegendSpec? = LegendSpec()
    public var title: String?
    public var value: JSONValue?
    public var stack: Bool?
    /// Every field of a `tooltip` list (the definition itself is the first).
    public var tooltipItems: [FieldDef] = []
}

/// Axis options (nil on a ``FieldDef`` hides the axis).
public struct AxisSpec: Sendable {
    public var title: String?
    public var format: String?
    public var tickCount: Int?
    public var labelAngle: Double?
}

/// Legend options (nil on a ``FieldDef`` hides the legend).
public struct LegendSpec: Sendable {
    public var title: String?
}

/// A data transform.
public enum Transform: Sendable {
    case filter(Expression)
    case calculate(Expression, as: String)
    case aggregate([AggregateField], groupby: [String])
    case fold([String], as: (String, String))
    case window([WindowField], sort: [(field: String, descending: Bool)], groupby: [String])
}

/// `{"op", "field", "as"}` of an aggregate transform.
public struct AggregateField: Sendable {
    public var op: AggregateOp
    public var field: String?
    public var name: String
}

/// Window operations: running sum and count, row number, rank.
public enum WindowOp: String, Sendable {
    case sum, count, row_number, rank
}

/// `{"op", "field", "as"}` of a window transform.
public struct WindowField: Sendable {
    public var op: WindowOp
    public var field: String?
    public var name: String
}

extension LayerSpec {
    /// The names of every `data: {"name": ...}` source in this view and its layers.
    public var externalSources: Set<ExternalSource> {
        var sources = Set<ExternalSource>()
        if case .external(let source, _)? = data { sources.insert(source) }
        for child in layers { sources.formUnion(child.externalSources) }
        return sources
    }
}
