import Foundation

/// Whether every entry of a zip lies inside its bytes, checked before ZIPFoundation reads it.
///
/// ZIPFoundation 0.9.20 reads an entry's compressed bytes until it has as many as it wants: from
/// a file, a read past the end returns nothing and it loops forever; from memory it trapped (the
/// `docx` fuzz harness found both). So the reader refuses, before extracting, an archive whose
/// central directory or any entry's data reaches past the end. Not covered (open): a deflate
/// stream that needs more input than its entry declares loops the same way (Fuzz/known/docx). ZIP64 values (0xFFFF / 0xFFFFFFFF) are refused too: a .docx within the
/// upload limit never needs them.
enum ZIPBounds {
    static func check(_ data: Data) -> Bool {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func signature(_ at: Int, _ value: Int) -> Bool { at >= 0 && at + 4 <= bytes.count && u32(at) == value }
        // The end record nearest the end, as ZIPFoundation finds it.
        guard bytes.count >= 22 else { return false }
        var end = bytes.count - 22
        while !signature(end, 0x0605_4B50) {
            if end == 0 { return false }
            end -= 1
        }
        let entries = u16(end + 10), directorySize = u32(end + 12), directoryStart = u32(end + 16)
        guard entries != 0xFFFF, directorySize != 0xFFFF_FFFF, directoryStart != 0xFFFF_FFFF,
              directoryStart + directorySize <= end else { return false }
        var record = directoryStart
        for _ in 0..<entries {
            guard record + 46 <= end, signature(record, 0x0201_4B50) else { return false }
            let compressed = u32(record + 20), uncompressed = u32(record + 24)
            let nameLength = u16(record + 28), extraLength = u16(record + 30), commentLength = u16(record + 32)
            let local = u32(record + 42)
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF, local != 0xFFFF_FFFF,
                  local + 30 <= bytes.count, signature(local, 0x0403_4B50) else { return false }
            let dataStart = local + 30 + u16(local + 26) + u16(local + 28)
            guard dataStart + compressed <= bytes.count else { return false }
            record += 46 + nameLength + extraLength + commentLength
        }
        return record <= end
    }
}
