import Foundation

/// Builds zip archives byte by byte (stored entries), so a test can make one that no zip writer
/// would: a method other than deflate, lying sizes, thousands of entries.
struct RawZip {
    struct Entry {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        /// The uncompressed size written in the headers (default: the real one).
        var declaredSize: UInt32?
    }

    var entries: [Entry] = []

    /// The archive's bytes: local headers with their data, the central directory, the end record.
    var bytes: [UInt8] {
        var out: [UInt8] = [], directory: [UInt8] = []
        func u16(_ v: UInt16, _ into: inout [UInt8]) { into += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32, _ into: inout [UInt8]) { u16(UInt16(v & 0xFFFF), &into); u16(UInt16(v >> 16), &into) }
        for entry in entries {
            let name = Array(entry.name.utf8), offset = UInt32(out.count), crc = Self.crc32(entry.data)
            let size = UInt32(entry.data.count), declared = entry.declaredSize ?? size
            u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(entry.method, &out); u16(0, &out); u16(0x21, &out)
            u32(crc, &out); u32(size, &out); u32(declared, &out); u16(UInt16(name.count), &out); u16(0, &out)
            out += name + entry.data
            u32(0x0201_4B50, &directory); u16(20, &directory); u16(20, &directory); u16(0, &directory); u16(entry.method, &directory)
            u16(0, &directory); u16(0x21, &directory); u32(crc, &directory); u32(size, &directory); u32(declared, &directory)
            u16(UInt16(name.count), &directory); u16(0, &directory); u16(0, &directory); u16(0, &directory); u16(0, &directory)
            u32(0, &directory); u32(offset, &directory)
            directory += name
        }
        let start = UInt32(out.count)
        out += directory
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out)
        u16(UInt16(truncatingIfNeeded: entries.count), &out); u16(UInt16(truncatingIfNeeded: entries.count), &out)
        u32(UInt32(directory.count), &out); u32(start, &out); u16(0, &out)
        return out
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
