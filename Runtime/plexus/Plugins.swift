import ArgumentParser
import Foundation
import PlexusRuntime

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plugins of a running instance (its loopback admin endpoint).")

    @Option(help: "Address of the running instance, HOST:PORT.")
    var listen = "127.0.0.1:8080"
    @Option(help: "The instance's data directory (holds admin.key).")
    var data = "./data"
    @Flag(help: "Print the raw JSON instead of a table.")
    var json = false

    func run() throws {
        let body: [UInt8]
        do {
            body = try AdminClient.get("/admin/plugins", from: listen, adminKey: AdminClient.adminKey(dataDirectory: data))
        } catch {
            throw CommandFailure("cannot read plugins from \(listen): \(error)")
        }
        if json {
            print(String(decoding: body, as: UTF8.self))
            return
        }
        let plugins = try JSONDecoder().decode([PluginSummary].self, from: Data(body))
        let rows = plugins.map { [$0.name, $0.version, $0.state, $0.routes.joined(separator: " "), $0.reason] }
        print(Table.render(header: ["NAME", "VERSION", "STATE", "ROUTES", "REASON"], rows: rows))
    }
}

/// Plain-text tables for the terminal.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
