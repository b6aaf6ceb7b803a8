/// UTF-8 bytes read in place: a zero-based view of an array or of a part of one, so that a
/// document that is a range of a larger buffer (a part of a multipart body) is compared without
/// being copied out of it. Indices run from 0 to `count`, as for an array of the same bytes.
public struct ByteView: RandomAccessCollection, Sendable, Equatable {
    /// The bytes, with the indices of the buffer they are part of.
    public let base: ArraySlice<UInt8>

    /// A view of a whole array (no copy).
    public init(_ bytes: [UInt8]) { base = bytes[...] }

    /// A view of a part of an array (no copy).
    public init(_ bytes: ArraySlice<UInt8>) { base = bytes }

    public var startIndex: Int { 0 }
    public var endIndex: Int { base.count }

    @inline(__always)
    public subscript(position: Int) -> UInt8 { base[base.startIndex &+ position] }

    /// Calls `body` with a pointer to the bytes (index 0 is the view's first byte).
    @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try base.withUnsafeBufferPointer(body)
    }

    /// The bytes in `range` (view indices), as a slice of the underlying buffer (no copy).
    public func slice(_ range: Range<Int>) -> ArraySlice<UInt8> {
        base[(base.startIndex + range.lowerBound)..<(base.startIndex + range.upperBound)]
    }

    /// The bytes as a string (valid UTF-8 is the caller's guarantee; invalid bytes are repaired).
    public var string: String { withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) } }

    /// The bytes in `range` as a string.
    public func string(_ range: Range<Int>) -> String {
        withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) }
    }

    public static func == (lhs: ByteView, rhs: ByteView) -> Bool { lhs.base.elementsEqual(rhs.base) }
}
