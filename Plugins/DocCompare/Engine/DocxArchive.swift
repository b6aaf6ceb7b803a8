import CLibZip
import Foundation

/// Reads one part of a `.docx` upload (a zip) from memory with libzip, within limits.
///
/// The archive is opened with `ZIP_CHECKCONS` (every central-directory record must agree with
/// its local header, and the whole directory lie inside the bytes), so a truncated or
/// overlapping archive is refused before anything is inflated. Then, for the one entry read:
/// - at most ``maximumEntries`` entries in the archive;
/// - stored or deflated only (no bzip2, xz or zstd decoder runs on client bytes), not encrypted;
/// - its declared size at most the caller's limit, and a declared ratio deflate can produce
///   (at most ``maximumRatio`` to 1): refused before inflating;
/// - inflated chunk by chunk, stopping as soon as the output passes the limit or the declared
///   size (a zip bomb costs at most the limit in memory), and its CRC-32 checked at the end.
/// Entry names are only compared, never used as paths, so `../` in a name is harmless.
enum DocxArchive {
    /// More entries than any .docx has (Word writes about 10 to 30).
    static let maximumEntries = 10_000
    /// Deflate cannot expand more than about 1032 to 1.
    static let maximumRatio: UInt64 = 1032

    /// The inflated bytes of entry `name`, or throws a ``DocDiffError`` naming what is wrong.
    static func read(_ name: String, from data: Data, limit: Int) throws -> Data {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Data in
            // libzip refuses a NULL buffer even for zero bytes; an empty upload is not a zip.
            guard let base = raw.baseAddress, raw.count >= 22 else { throw DocDiffError.docxNotAZipArchive }
            // The entry count from the end record, before libzip reads (and checks) every entry.
            if let declared = declaredEntries(raw), declared > UInt64(maximumEntries) {
                throw DocDiffError.docxRefused(detail: "the archive has \(declared) entries, more than \(maximumEntries)")
            }
            var error = zip_error_t()
            zip_error_init(&error)
            defer { zip_error_fini(&error) }
            guard let source = zip_source_buffer_create(base, zip_uint64_t(raw.count), 0, &error) else {
                throw DocDiffError.docxNotAZipArchive
            }
            guard let archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) else {
                zip_source_free(source)
                throw DocDiffError.docxNotAZipArchive
            }
            defer { zip_discard(archive) }   // frees the source too; the bytes stay the caller's
            let entries = zip_get_num_entries(archive, 0)
            guard entries >= 0 else { throw DocDiffError.docxNotAZipArchive }
            guard entries <= maximumEntries else {
                throw DocDiffError.docxRefused(detail: "the archive has \(entries) entries, more than \(maximumEntries)")
            }
            let index = zip_name_locate(archive, name, zip_flags_t(ZIP_FL_ENC_RAW))
            guard index >= 0 else { throw DocDiffError.docxMissingDocumentXML }
            return try inflate(archive, entry: zip_uint64_t(index), name: name, limit: limit)
        }
    }

    /// The entry count the zip's end-of-central-directory record declares (its ZIP64 record's
    /// when the plain one says 0xFFFF), or nil when there is no end record to read.
    static func declaredEntries(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        func le(_ at: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(raw[at + $1]) << (8 * UInt64($1)) }
        }
        // The end record is 22 bytes plus a comment of at most 65,535, at the very end.
        let lowest = max(0, raw.count - 22 - 65_535)
        var at = raw.count - 22
        while at >= lowest {
            if le(at, 4) == 0x0605_4B50 {
                let entries = le(at + 10, 2)
                guard entries == 0xFFFF, at >= 20, le(at - 20, 4) == 0x0706_4B50 else { return entries }
                let record = le(at - 20 + 8, 8)
                guard record <= UInt64(raw.count - 56), le(Int(record), 4) == 0x0606_4B50 else { return entries }
                return le(Int(record) + 32, 8)
            }
            at -= 1
        }
        return nil
    }

    private static func inflate(_ archive: OpaquePointer, entry: zip_uint64_t, name: String, limit: Int) throws -> Data {
        var stat = zip_stat_t()
        zip_stat_init(&stat)
        let needed = zip_uint64_t(ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD)
        guard zip_stat_index(archive, entry, zip_flags_t(ZIP_FL_ENC_RAW), &stat) == 0, stat.valid & needed == needed else {
            throw DocDiffError.docxNotAZipArchive
        }
        guard stat.encryption_method == UInt16(ZIP_EM_NONE) else {
            throw DocDiffError.docxRefused(detail: "\(name) is encrypted")
        }
        guard stat.comp_method == Int32(ZIP_CM_STORE) || stat.comp_method == Int32(ZIP_CM_DEFLATE) else {
            throw DocDiffError.docxRefused(detail: "\(name) is compressed with method \(stat.comp_method); only stored (0) and deflate (8) are read")
        }
        if stat.size > UInt64(limit) { throw DocDiffError.docxTooLarge(limit: limit) }
        let compressed = max(stat.comp_size, 1)
        guard stat.size / compressed <= maximumRatio else {
            throw DocDiffError.docxRefused(detail: "\(name) declares \(stat.size) bytes from \(stat.comp_size) compressed, a ratio deflate cannot produce")
        }
        guard let file = zip_fopen_index(archive, entry, 0) else { throw DocDiffError.docxNotAZipArchive }
        defer { zip_fclose(file) }
        let declared = Int(stat.size)
        var out = Data(capacity: declared)
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let read = buffer.withUnsafeMutableBytes { zip_fread(file, $0.baseAddress!, zip_uint64_t(chunk)) }
            if read < 0 { throw DocDiffError.docxNotAZipArchive }   // a broken deflate stream, a CRC mismatch, a short entry
            if read == 0 { break }
            if out.count + Int(read) > limit { throw DocDiffError.docxTooLarge(limit: limit) }
            if out.count + Int(read) > declared { throw DocDiffError.docxNotAZipArchive }
            out.append(contentsOf: buffer[0..<Int(read)])
        }
        guard out.count == declared else { throw DocDiffError.docxNotAZipArchive }
        return out
    }
}
