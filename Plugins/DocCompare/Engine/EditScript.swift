import Foundation

/// A self-describing, Codable edit script that turns the old text into the new one.
///
/// Offsets and lengths are in UTF-8 bytes; token ranges are kept for reference. Equal
/// operations carry no text (to keep the JSON small); deletes carry the old text (checked
/// when applying) and inserts the new text.
public struct EditScript: Codable, Sendable, Equatable {
    /// One operation of the script.
    public struct Operation: Codable, Sendable, Equatable {
        /// equal, delete or insert.
        public var kind: DiffOp.Kind
        /// Byte offset in the old text.
        public var oldOffset: Int
        /// Byte length in the old text (0 for inserts).
        public var oldLength: Int
        /// Byte offset in the new text.
        public var newOffset: Int
        /// Byte length in the new text (0 for deletes).
        public var newLength: Int
        /// Token range in the old text.
        public var oldTokens: Range<Int>
        /// Token range in the new text.
        public var newTokens: Range<Int>
        /// Deleted text (for deletes) or inserted text (for inserts); nil for equal runs.
        public var text: String?
        /// Set on the two ends of a move.
        public var moveID: Int?
    }

    /// Format tag.
    public var format: String
    /// Granularity the script was computed at.
    public var granularity: Granularity
    /// Byte length of the old text.
    public var oldByteCount: Int
    /// Byte length of the new text.
    public var newByteCount: Int
    /// FNV-1a 64-bit hash of the old text (hex), checked before applying.
    public var oldChecksum: String
    /// The operations, in order.
    public var operations: [Operation]
    /// Detected moves.
    public var moves: [MoveBlock]
    /// Counts of inserted/deleted/moved/unchanged tokens.
    public var statistics: DiffStatistics

    /// Builds the script for a diff result.
    public init(_ result: DiffResult) {
        format = "docdiff-edit-script/1"
        granularity = result.options.granularity
        oldByteCount = result.old.bytes.count
        newByteCount = result.new.bytes.count
        oldChecksum = EditScript.checksum(result.old.bytes)
        moves = result.moves
        statistics = result.statistics
        operations = result.exactOps.map { op in
            let ob = result.old.byteRange(op.oldRange), nb = result.new.byteRange(op.newRange)
            let text: String?
            switch op.kind {
            case .equal: text = nil
            case .delete: text = result.old.text(op.oldRange)
            case .insert: text = result.new.text(op.newRange)
            }
            return Operation(kind: op.kind, oldOffset: ob.lowerBound, oldLength: ob.count,
                             newOffset: nb.lowerBound, newLength: nb.count,
                             oldTokens: op.oldRange, newTokens: op.newRange, text: text, moveID: op.moveID)
        }
    }

    /// Encodes the script as JSON.
    public func jsonData(prettyPrinted: Bool = false) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = prettyPrinted ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        return try enc.encode(self)
    }

    /// Decodes a script from JSON.
    public static func decode(json: Data) throws -> EditScript {
        try JSONDecoder().decode(EditScript.self, from: json)
    }

    /// Applies the script to the old text's bytes, returning the new text's bytes.
    /// Throws `DocDiffError.editScriptMismatch` if `old` is not the text the script was made from.
    public func apply(toBytes old: [UInt8]) throws -> [UInt8] {
        guard old.count == oldByteCount else {
            throw DocDiffError.editScriptMismatch(detail: "old text has \(old.count) bytes, script expects \(oldByteCount)")
        }
        guard EditScript.checksum(old) == oldChecksum else {
            throw DocDiffError.editScriptMismatch(detail: "old text checksum differs from the script's")
        }
        var out: [UInt8] = []
        out.reserveCapacity(newByteCount)
        var cursor = 0
        for (n, op) in operations.enumerated() {
            switch op.kind {
            case .equal, .delete:
                guard op.oldOffset == cursor, op.oldOffset + op.oldLength <= old.count else {
                    throw DocDiffError.editScriptMismatch(detail: "operation \(n) starts at \(op.oldOffset), expected \(cursor)")
                }
                let slice = old[op.oldOffset..<(op.oldOffset + op.oldLength)]
                if op.kind == .equal {
                    out.append(contentsOf: slice)
                } else if let t = op.text, !slice.elementsEqual(t.utf8) {
                    throw DocDiffError.editScriptMismatch(detail: "operation \(n) deletes text that differs from the old text")
                }
                cursor += op.oldLength
            case .insert:
                out.append(contentsOf: (op.text ?? "").utf8)
            }
        }
        guard cursor == old.count else {
            throw DocDiffError.editScriptMismatch(detail: "script covers \(cursor) of \(old.count) old bytes")
        }
        return out
    }

    /// Applies the script to the old text, returning the new text.
    public func apply(to old: String) throws -> String {
        String(decoding: try apply(toBytes: Array(old.utf8)), as: UTF8.self)
    }

    /// FNV-1a 64-bit hash of `bytes`, as 16 hex digits.
    public static func checksum(_ bytes: [UInt8]) -> String { checksum(ByteView(bytes)) }

    /// FNV-1a 64-bit hash of `bytes`, as 16 hex digits.
    public static func checksum(_ bytes: ByteView) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes.base { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Decodes a JSON script and applies it to `old`.
    public static func apply(json: Data, to old: String) throws -> String {
        try decode(json: json).apply(to: old)
    }
}
