import Foundation

/// Whether bytes hold a ZIP end-of-central-directory record that ZIPFoundation's reader will accept.
///
/// ZIPFoundation 0.9.20 leaks when `Archive(data:accessMode: .read)` throws because that record
/// is missing or cut short: the in-memory file it opened (a copy of the whole upload) is retained
/// by its `fopencookie` and never closed. Found by the `docx` fuzz harness; every non-zip upload
/// leaked its size. So the reader asks this first and never hands ZIPFoundation bytes it would
/// refuse that way. The check is ZIPFoundation's own scan: the signature nearest the end, at
/// least 22 bytes before it, followed by the whole comment it declares.
enum ZIPEndRecord {
    static let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
    static let size = 22

    static func isPresent(in data: Data) -> Bool {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            guard bytes.count >= size else { return false }
            var offset = bytes.count - size
            while true {
                if bytes[offset] == signature[0] && bytes[offset + 1] == signature[1]
                    && bytes[offset + 2] == signature[2] && bytes[offset + 3] == signature[3] {
                    // The nearest signature decides, as in ZIPFoundation: its comment must be all there.
                    let commentLength = Int(bytes[offset + 20]) | Int(bytes[offset + 21]) << 8
                    return offset + size + commentLength <= bytes.count
                }
                if offset == 0 { return false }
                offset -= 1
            }
        }
    }
}
