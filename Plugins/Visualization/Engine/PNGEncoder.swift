import CCairo

/// Writes a cairo image surface as an 8-bit RGB PNG: scanlines with the "Up" filter, deflated by zlib at
/// level 1 (a chart is mostly flat colour, so the fast level costs little size and a third of cairo's own
/// writer's time, which uses libpng's default level).
enum PNGEncoder {
    static func encode(_ surface: OpaquePointer?) throws(ChartError) -> [UInt8] {
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface)), height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard width > 0, height > 0, let pixels = cairo_image_surface_get_data(surface) else {
            throw ChartError(.render, path: "$", "cairo gave no image to encode")
        }
        let rowBytes = width * 3
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        var previous = [UInt8](repeating: 0, count: rowBytes), current = previous
        raw.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = pixels + y * stride
                // ARGB32 is native-endian (B, G, R, A in memory here) and premultiplied.
                for x in 0..<width {
                    let b = row[x * 4], g = row[x * 4 + 1], r = row[x * 4 + 2], a = row[x * 4 + 3]
                    if a == 255 {
                        current[x * 3] = r; current[x * 3 + 1] = g; current[x * 3 + 2] = b
                    } else if a == 0 {
                        current[x * 3] = 0; current[x * 3 + 1] = 0; current[x * 3 + 2] = 0
                    } else {
                        current[x * 3] = UInt8(min(255, Int(r) * 255 / Int(a)))
                        current[x * 3 + 1] = UInt8(min(255, Int(g) * 255 / Int(a)))
                        current[x * 3 + 2] = UInt8(min(255, Int(b) * 255 / Int(a)))
                    }
                }
                let base = y * (rowBytes + 1)
                out[base] = 2  // Up
                for i in 0..<rowBytes { out[base + 1 + i] = current[i] &- previous[i] }
                swap(&previous, &current)
            }
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compressed.withUnsafeMutableBufferPointer { destination in
            raw.withUnsafeBufferPointer { source in
                compress2(destination.baseAddress, &compressedLength, source.baseAddress, uLong(source.count), 1)
            }
        }
        guard status == Z_OK else { throw ChartError(.render, path: "$", "zlib could not compress the PNG (status \(status))") }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        for value in [UInt32(width), UInt32(height)] { header += bigEndian(value) }
        header += [8, 2, 0, 0, 0]  // 8 bits per channel, RGB, deflate, adaptive filtering, no interlace
        chunk("IHDR", header, into: &png)
        chunk("IDAT", compressed[0..<Int(compressedLength)], into: &png)
        chunk("IEND", [], into: &png)
        return png
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static func chunk<Bytes: Collection>(_ type: String, _ data: Bytes, into png: inout [UInt8]) where Bytes.Element == UInt8 {
        png += bigEndian(UInt32(data.count))
        let start = png.count
        png += Array(type.utf8)
        png += data
        let crc = png[start...].withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        png += bigEndian(UInt32(crc))
    }
}
