import Foundation

/// A growable byte buffer in manually managed memory, so pointers into it stay valid across
/// the C boundary for as long as the owner keeps it and stops appending.
final class RawBytes {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private(set) var capacity = 0

    init(capacity: Int = 0) {
        if capacity > 0 { reserve(capacity) }
    }

    deinit { free(base) }

    /// Appends `length` bytes from `source`.
    func append(_ source: UnsafeRawPointer, _ length: Int) {
        guard length > 0 else { return }
        reserve(count + length)
        (base! + count).copyMemory(from: source, byteCount: length)
        count += length
    }

    /// Appends the bytes of an array.
    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { if let address = $0.baseAddress { append(address, $0.count) } }
    }

    /// The bytes in `range` as an unsafe buffer (valid while nothing is appended).
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + range.lowerBound }, count: range.count)
    }

    /// The bytes in `range` as a string (invalid UTF-8 repaired).
    func string(_ range: Range<Int>) -> String {
        String(decoding: slice(range), as: UTF8.self)
    }

    /// Replaces the bytes with those `write` puts straight into the buffer, at most `capacity`
    /// of them (it returns how many it wrote), and returns them; pointers into the old bytes
    /// become invalid. The memory is kept from one use to the next (no allocation once it fits).
    func overwrite(atMost capacity: Int, _ write: (UnsafeMutableBufferPointer<UInt8>) -> Int) -> UnsafeRawBufferPointer {
        count = 0
        reserve(max(capacity, 1))
        let written = write(UnsafeMutableBufferPointer(start: base!.assumingMemoryBound(to: UInt8.self), count: capacity))
        precondition(written <= capacity, "RawBytes.overwrite: more written than sized for")
        count = written
        return UnsafeRawBufferPointer(start: base, count: written)
    }

    /// Empties the buffer, keeping its memory for the next bytes; pointers into it become invalid.
    func removeAll() {
        count = 0
    }

    /// Frees the bytes (the buffer is empty afterwards); pointers into it become invalid.
    func release() {
        free(base)
        base = nil
        count = 0
        capacity = 0
    }

    /// Makes room for `needed` bytes in all, so that appending up to that many never moves them
    /// (a body of a declared length is allocated once, at its size).
    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        var next = max(capacity * 2, 256)
        if count == 0 && capacity == 0 { next = needed }
        while next < needed { next *= 2 }
        base = realloc(base, next)
        capacity = next
    }
}
