/// The drawing both renderers consume: absolute coordinates in pixels (points for PDF), y down.
public struct Scene: Sendable {
    public var width: Double
    public var height: Double
    public var background = "#FFFFFF"
    public var items: [SceneItem] = []
    /// Tooltip text of marks by item index (SVG `<title>`, which browsers show on hover).
    public var tooltips: [Int: String] = [:]

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }
}

/// A point in scene coordinates.
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// Horizontal text alignment.
public enum TextAnchor: String, Sendable {
    case start, middle, end
}

/// Fill and stroke of a shape.
public struct Paint: Sendable, Equatable {
    public var fill: String?
    public var stroke: String?
    public var strokeWidth: Double = 1
    public var opacity: Double = 1

    public init(fill: String? = nil, stroke: String? = nil, strokeWidth: Double = 1, opacity: Double = 1) {
        self.fill = fill
        self.stroke = stroke
        self.strokeWidth = strokeWidth
        self.opacity = opacity
    }
}

/// One drawable; `role` names what it is (`mark-bar`, `tick-label-x`, `legend-label`, ...) for the SVG
/// `class` attribute and for tests.
public enum SceneItem: Sendable {
    case rect(x: Double, y: Double, width: Double, height: Double, paint: Paint, role: String)
    case polyline([Point], closed: Bool, paint: Paint, role: String)
    case circle(center: Point, radius: Double, paint: Paint, role: String)
    case wedge(center: Point, inner: Double, outer: Double, start: Double, end: Double, paint: Paint, role: String)
    case text(String, at: Point, size: Double, color: String, anchor: TextAnchor, angle: Double, bold: Bool, role: String)

    /// The item's role.
    public var role: String {
        switch self {
        case .rect(_, _, _, _, _, let role), .polyline(_, _, _, let role), .circle(_, _, _, let role),
             .wedge(_, _, _, _, _, _, let role), .text(_, _, _, _, _, _, _, let role): role
        }
    }
}

/// Approximate text metrics for layout (DejaVu Sans averages about 0.6 em per character).
enum TextMetrics {
    static func width(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }
}
