import ArgumentParser
import Foundation
import PlexusRuntime

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every plugin's storage and the durable event log with SQLite's online backup (safe while serving)."
    )

    @Option(help: "The data directory of the instance (default ./data).")
    var data = "data"
    @Option(help: "Where to write the copies.")
    var output: String

    func run() throws {
        do {
            let copies = try DatabaseBackup.run(dataDirectory: URL(fileURLWithPath: data), output: URL(fileURLWithPath: output))
            print(Table.render(header: ["SOURCE", "COPY", "BYTES"], rows: copies.map { [$0.source, $0.destination, String($0.bytes)] }))
        } catch {
            throw ValidationError("backup failed: \(error)")
        }
    }
}
