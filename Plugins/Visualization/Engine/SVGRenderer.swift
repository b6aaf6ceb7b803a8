import Foundation

/// Writes a scene as a standalone SVG document; each item carries its role as `class`.
public enum SVGRenderer {
    public static func render(_ scene: Scene) -> [UInt8] {
        var out = ""
        out.reserveCapacity(4096 + scene.items.count * 80)
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(scene.width))\" height=\"\(n(scene.height))\" "
        out += "viewBox=\"0 0 \(n(scene.width)) \(n(scene.height))\" font-family=\"DejaVu Sans, sans-serif\">\n"
        out += "<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"\(scene.background)\"/>\n"
        for (index, item) in scene.items.enumerated() {
            // A mark with a tooltip carries it as a <title> child, which browsers show on hover.
            let tip = scene.tooltips.isEmpty ? nil : scene.tooltips[index].map { "><title>" + escape($0) + "</title></" }
            switch item {
            case .rect(let x, let y, let w, let h, let paint, let role):
                out += "<rect class=\"\(role)\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\"\(attributes(paint))" + (tip.map { $0 + "rect>" } ?? "/>") + "\n"
            case .polyline(let points, let closed, let paint, let role):
                out += "<path class=\"\(role)\" d=\""
                for (index, point) in points.enumerated() {
                    out += index == 0 ? "M" : "L"
                    out += n(point.x) + "," + n(point.y)
                }
                if closed { out += "Z" }
                out += "\"\(attributes(paint, defaultFill: "none"))/>\n"
            case .circle(let c, let r, let paint, let role):
                out += "<circle class=\"\(role)\" cx=\"\(n(c.x))\" cy=\"\(n(c.y))\" r=\"\(n(r))\"\(attributes(paint))" + (tip.map { $0 + "circle>" } ?? "/>") + "\n"
            case .wedge(let c, let inner, let outer, let start, let end, let paint, let role):
                out += "<path class=\"\(role)\" d=\"\(wedgePath(c, inner, outer, start, end))\"\(attributes(paint))" + (tip.map { $0 + "path>" } ?? "/>") + "\n"
            case .text(let text, let at, let size, let color, let anchor, let angle, let bold, let role):
                let rotate = angle == 0 ? "" : " transform=\"rotate(\(n(angle)) \(n(at.x)) \(n(at.y)))\""
                out += "<text class=\"\(role)\" x=\"\(n(at.x))\" y=\"\(n(at.y))\" font-size=\"\(n(size))\" fill=\"\(color)\" text-anchor=\"\(anchor.rawValue)\""
                out += (bold ? " font-weight=\"bold\"" : "") + rotate + ">" + escape(text) + (scene.tooltips[index].map { "<title>" + escape($0) + "</title>" } ?? "") + "</text>\n"
            }
        }
        out += "</svg>\n"
        return Array(out.utf8)
    }

    private static func attributes(_ paint: Paint, defaultFill: String? = nil) -> String {
        var out = ""
        if let fill = paint.fill ?? defaultFill { out += " fill=\"\(fill)\"" }
        if let stroke = paint.stroke { out += " stroke=\"\(stroke)\" stroke-width=\"\(n(paint.strokeWidth))\"" }
        if paint.opacity < 1 { out += " opacity=\"\(n(paint.opacity))\"" }
        return out
    }

    static func wedgePath(_ c: Point, _ inner: Double, _ outer: Double, _ start: Double, _ end: Double) -> String {
        let large = end - start > .pi ? 1 : 0
        let sweep = min(end - start, 2 * .pi - 1e-6)
        let e = start + sweep
        var d = "M\(n(c.x + inner * cos(start))),\(n(c.y + inner * sin(start)))"
        d += "L\(n(c.x + outer * cos(start))),\(n(c.y + outer * sin(start)))"
        d += "A\(n(outer)),\(n(outer)) 0 \(large) 1 \(n(c.x + outer * cos(e))),\(n(c.y + outer * sin(e)))"
        d += "L\(n(c.x + inner * cos(e))),\(n(c.y + inner * sin(e)))"
        if inner > 0 { d += "A\(n(inner)),\(n(inner)) 0 \(large) 0 \(n(c.x + inner * cos(start))),\(n(c.y + inner * sin(start)))" }
        return d + "Z"
    }

    /// A coordinate with at most two decimals.
    static func n(_ value: Double) -> String {
        let scaled = (value * 100).rounded()
        if scaled == (scaled / 100).rounded() * 100 { return String(Int64(scaled / 100)) }
        let integer = Int64(scaled)
        let sign = integer < 0 ? "-" : ""
        let magnitude = abs(integer)
        let fraction = magnitude % 100
        return sign + String(magnitude / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction % 10 == 0 ? fraction / 10 : fraction)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for char in text {
            switch char {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(char)
            }
        }
        return out
    }
}
