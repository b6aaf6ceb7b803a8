/// UTF-8 validation over raw bytes, with an ASCII fast path.
enum UTF8Validation {
    /// Returns the offset of the first invalid byte, or nil when `bytes` is valid UTF-8.
    static func firstInvalidOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = bytes.count
        guard let base = bytes.baseAddress else { return nil }
        var i = 0
        while i < n {
            // ASCII fast path: 8 bytes at a time.
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if w & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
            if i >= n { break }
            let b0 = base[i]
            if b0 < 0x80 { i += 1; continue }
            var need = 0
            var minCode: UInt32 = 0
            var code: UInt32 = 0
            if b0 & 0xE0 == 0xC0 { need = 1; minCode = 0x80; code = UInt32(b0 & 0x1F) }
            else if b0 & 0xF0 == 0xE0 { need = 2; minCode = 0x800; code = UInt32(b0 & 0x0F) }
            else if b0 & 0xF8 == 0xF0 { need = 3; minCode = 0x10000; code = UInt32(b0 & 0x07) }
            else { return i }
            for k in 1...need {
                if i + k >= n { return i }
                let c = base[i + k]
                if c & 0xC0 != 0x80 { return i }
                code = (code << 6) | UInt32(c & 0x3F)
            }
            if code < minCode || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) { return i }
            i += need + 1
        }
        return nil
    }
}
