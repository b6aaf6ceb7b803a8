import Foundation

/// An upload written to a private temporary file for the zip reader (``DocxReader``), removed by
/// its owner when done. ZIPFoundation's file-backed archive reads past the end as nothing, where
/// its in-memory one traps.
struct ArchiveFile {
    let url: URL

    /// Writes `data` to a new file only this process can read.
    init(_ data: Data) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-docx-\(UUID().uuidString).zip")
        do {
            try data.write(to: url, options: [.withoutOverwriting])
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw DocDiffError.unreadableFile(path: url.path, detail: "cannot write the upload to a temporary file: \(error)")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
