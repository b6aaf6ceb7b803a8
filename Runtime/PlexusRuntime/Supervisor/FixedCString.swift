/// Text of a fixed-size C `char` array field (imported as a tuple) of a record shared with the
/// worker: the bytes up to the first NUL, as UTF-8 (invalid bytes replaced).
enum FixedCString {
    static func text<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { bytes in String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
