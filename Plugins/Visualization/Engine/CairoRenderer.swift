import CCairo
import Foundation

/// Draws a scene with cairo: PNG (ARGB32 image surface) or PDF (one page), text laid out by pango.
public struct CairoRenderer {
    public enum Format: Sendable { case png, pdf }

    let fonts: FontContext
    /// Pixels per scene unit for PNG (2 for a high-density image).
    public var scale: Double = 1

    public init(fonts: FontContext, scale: Double = 1) {
        self.fonts = fonts
        self.scale = scale
    }

    /// Renders `scene` to PNG or PDF bytes.
    public func render(_ scene: Scene, as format: Format) throws(ChartError) -> [UInt8] {
        let sink = ByteSink()
        let pointer = Unmanaged.passUnretained(sink).toOpaque()
        let write: cairo_write_func_t = { closure, data, length in
            let sink = Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }
        fonts.lock.lock()
        defer { fonts.lock.unlock() }
        switch format {
        case .png:
            let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32((scene.width * scale).rounded(.up)), Int32((scene.height * scale).rounded(.up)))
            defer { cairo_surface_destroy(surface) }
            try draw(scene, on: surface, scale: scale)
            return try PNGEncoder.encode(surface)
        case .pdf:
            let surface = cairo_pdf_surface_create_for_stream(write, pointer, scene.width, scene.height)
            try draw(scene, on: surface, scale: 1)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw ChartError(.render, path: "$", "cairo could not write the PDF") }
        }
        return sink.bytes
    }

    /// Renders `pages` as one PDF, a page per scene (each page the scene's size).
    public func renderPDF(pages: [Scene]) throws(ChartError) -> [UInt8] {
        guard let first = pages.first else { throw ChartError(.invalid, path: "$", "a report needs at least one page") }
        let sink = ByteSink()
        let pointer = Unmanaged.passUnretained(sink).toOpaque()
        let write: cairo_write_func_t = { closure, data, length in
            let sink = Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }
        fonts.lock.lock()
        defer { fonts.lock.unlock() }
        let surface = cairo_pdf_surface_create_for_stream(write, pointer, first.width, first.height)
        for page in pages {
            cairo_pdf_surface_set_size(surface, page.width, page.height)
            try draw(page, on: surface, scale: 1)
            cairo_surface_show_page(surface)
        }
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw ChartError(.render, path: "$", "cairo could not write the PDF") }
        return sink.bytes
    }

    /// Draws the items; the caller holds the font lock.
    func draw(_ scene: Scene, on surface: OpaquePointer?, scale: Double) throws(ChartError) {
        guard let cr = cairo_create(surface) else { throw ChartError(.render, path: "$", "cairo could not create a context") }
        defer { cairo_destroy(cr) }
        cairo_scale(cr, scale, scale)
        setColor(cr, scene.background, 1)
        cairo_paint(cr)
        // Strips are for pixels: a PDF viewer would antialias the strips' clip edges.
        let raster = cairo_surface_get_type(surface) == CAIRO_SURFACE_TYPE_IMAGE
        let layout = pango_layout_new(pango_font_map_create_context(fonts.fontMap))
        defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
        for item in scene.items {
            switch item {
            case .rect(let x, let y, let w, let h, let paint, _):
                cairo_rectangle(cr, x, y, w, h)
                fillAndStroke(cr, paint)
            case .polyline(let points, false, let paint, _) where raster && points.count > Self.stripThreshold && paint.fill == nil:
                strokeInStrips(cr, points, paint)
            case .polyline(let points, let closed, let paint, _):
                guard let first = points.first else { continue }
                cairo_new_path(cr)
                cairo_move_to(cr, first.x, first.y)
                for point in points.dropFirst() { cairo_line_to(cr, point.x, point.y) }
                if closed { cairo_close_path(cr) }
                // Round joins on short lines; a dense line (LTTB keeps two points per pixel column) gets bevel
                // joins, which look the same at that density and cost cairo far fewer trapezoids.
                cairo_set_line_join(cr, points.count > 256 ? CAIRO_LINE_JOIN_BEVEL : CAIRO_LINE_JOIN_ROUND)
                fillAndStroke(cr, paint)
            case .circle(_, _, _, "mark-hover"):
                continue  // an invisible hover target of a line or area (SVG only)
            case .circle(let c, let r, let paint, _):
                cairo_new_sub_path(cr)
                cairo_arc(cr, c.x, c.y, r, 0, 2 * .pi)
                fillAndStroke(cr, paint)
            case .wedge(let c, let inner, let outer, let start, let end, let paint, _):
                cairo_new_path(cr)
                cairo_arc(cr, c.x, c.y, outer, start, end)
                if inner > 0 { cairo_arc_negative(cr, c.x, c.y, inner, end, start) } else { cairo_line_to(cr, c.x, c.y) }
                cairo_close_path(cr)
                fillAndStroke(cr, paint)
            case .text(let text, let at, let size, let color, let anchor, let angle, let bold, _):
                drawText(cr, layout, text, at: at, size: size, color: color, anchor: anchor, angle: angle, bold: bold)
            }
        }
    }

    /// Dense open lines are stroked in strips this many pixels wide.
    static let stripWidth = 32.0
    /// Lines with more points than this are stroked in strips.
    static let stripThreshold = 256

    /// Strokes a dense line (points in x order, as the painter makes them) strip by strip: each strip is
    /// clipped to its pixel columns and strokes only the segments that can reach it. Inside the clip those
    /// segments cover exactly what the whole line covers (a segment further away cannot reach it: bevel joins
    /// and butt caps stay within half the line width of their point), so the pixels are the same, but cairo's
    /// scan converter, whose cost grows with how many edges of one polygon cross each other, sees one strip's
    /// edges at a time: a dense zig-zag of 2,750 points takes a third of the time.
    private func strokeInStrips(_ cr: OpaquePointer?, _ points: [Point], _ paint: Paint) {
        guard let stroke = paint.stroke else { return }
        setColor(cr, stroke, paint.opacity)
        cairo_set_line_width(cr, paint.strokeWidth)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL)
        let reach = paint.strokeWidth.rounded(.up) + 1
        let low = points.map(\.x).min()!.rounded(.down) - reach, high = points.map(\.x).max()!.rounded(.up) + reach
        let top = (points.map(\.y).min()! - reach).rounded(.down), bottom = (points.map(\.y).max()! + reach).rounded(.up)
        // Out-of-order x (not made by the painter) would break the contiguous index ranges: stroke whole.
        guard zip(points, points.dropFirst()).allSatisfy({ $0.x <= $1.x }) else {
            cairo_new_path(cr)
            cairo_move_to(cr, points[0].x, points[0].y)
            for point in points.dropFirst() { cairo_line_to(cr, point.x, point.y) }
            cairo_stroke(cr)
            return
        }
        var first = 0
        var left = low
        while left < high {
            let right = left + Self.stripWidth
            // The segments touching [left - reach, right + reach]: from the last point left of it to the first right of it.
            while first + 1 < points.count, points[first + 1].x < left - reach { first += 1 }
            var last = first
            while last + 1 < points.count, points[last].x <= right + reach { last += 1 }
            cairo_save(cr)
            cairo_new_path(cr)
            cairo_rectangle(cr, left, top, Self.stripWidth, bottom - top)
            cairo_clip(cr)
            cairo_move_to(cr, points[first].x, points[first].y)
            for index in (first + 1)..<max(first + 1, last + 1) { cairo_line_to(cr, points[index].x, points[index].y) }
            cairo_stroke(cr)
            cairo_restore(cr)
            left = right
        }
        cairo_new_path(cr)
    }

    private func fillAndStroke(_ cr: OpaquePointer?, _ paint: Paint) {
        if let fill = paint.fill {
            setColor(cr, fill, paint.opacity)
            if paint.stroke != nil { cairo_fill_preserve(cr) } else { cairo_fill(cr) }
        }
        if let stroke = paint.stroke {
            setColor(cr, stroke, paint.opacity)
            cairo_set_line_width(cr, paint.strokeWidth)
            cairo_stroke(cr)
        }
        cairo_new_path(cr)
    }

    private func setColor(_ cr: OpaquePointer?, _ hex: String, _ alpha: Double) {
        let (r, g, b) = Colors.components(hex)
        cairo_set_source_rgba(cr, r, g, b, alpha)
    }

    private func drawText(_ cr: OpaquePointer?, _ layout: OpaquePointer?, _ text: String, at: Point, size: Double, color: String,
                          anchor: TextAnchor, angle: Double, bold: Bool) {
        let description = pango_font_description_new()
        defer { pango_font_description_free(description) }
        pango_font_description_set_family(description, "DejaVu Sans")
        pango_font_description_set_weight(description, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
        pango_font_description_set_absolute_size(description, size * Double(PANGO_SCALE))
        pango_layout_set_font_description(layout, description)
        pango_layout_set_text(layout, text, -1)
        pango_cairo_update_layout(cr, layout)
        var width: Int32 = 0, height: Int32 = 0
        pango_layout_get_pixel_size(layout, &width, &height)
        let baseline = Double(pango_layout_get_baseline(layout)) / Double(PANGO_SCALE)
        cairo_save(cr)
        cairo_translate(cr, at.x, at.y)
        if angle != 0 { cairo_rotate(cr, angle * .pi / 180) }
        let dx: Double = anchor == .start ? 0 : anchor == .middle ? -Double(width) / 2 : -Double(width)
        cairo_move_to(cr, dx, -baseline)
        setColor(cr, color, 1)
        pango_cairo_show_layout(cr, layout)
        cairo_restore(cr)
    }
}

/// Collects the bytes cairo writes.
final class ByteSink {
    var bytes: [UInt8] = []
}
