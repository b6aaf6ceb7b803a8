import ArgumentParser
import Foundation
import PlexusAuth
import PlexusRuntime
import PlexusStorage

/// `plexus apikey create|list|revoke`: API keys for service clients, in the runtime's own store
/// (`<data>/runtime/gateway.sqlite`, or with `--postgres` the tables every instance on that database
/// shares). Works whether or not the runtime is running; when one is, the
/// command returns once it serves the change (a new key works at once, a revoked one is refused).
struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Create, list and revoke API keys (stored hashed; a new key is shown once).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Options: ParsableArguments, Sendable {
        @Option(help: "The runtime's data directory.")
        var data = "./data"
        @Option(help: "With [cluster] postgres (and no Redis): the keys live on this database (postgresql://...), not in --data.")
        var postgres: String?

        /// Opens the key store of the data directory `--data`; refuses a directory that holds no Plexus data
        /// rather than creating a new, unused key store there.
        func open() async throws -> APIKeyStore {
            if let postgres { return try await APIKeyStore.open(postgres: PostgresSettings(url: postgres)) }
            let directory = URL(fileURLWithPath: data)
            try CommandFailure.requireFile(data, option: "--data")
            guard DataDirectoryProbe.holdsPlexusData(directory) else {
                throw CommandFailure("\(data) holds no Plexus data (no runtime/gateway.sqlite, events.sqlite or admin.key): --data must name the data directory of an instance that has started at least once")
            }
            return try await APIKeyStore.open(path: directory.appendingPathComponent("runtime/gateway.sqlite").path)
        }

        /// Waits (at most 5 s) until every running runtime on this data directory serves the change just made,
        /// so a created key works, and a revoked one is refused, as soon as the command returns.
        func waitUntilServed(_ store: APIKeyStore) async {
            if postgres != nil {
                // The readers' table names processes of this machine only; instances elsewhere refresh every second.
                FileHandle.standardError.write(Data("note: every instance serves the change after its next key refresh (about a second)\n".utf8))
                return
            }
            do {
                let behind = try await store.waitUntilServed(timeout: 5)
                if !behind.isEmpty {
                    let pids = behind.map(String.init).joined(separator: ", ")
                    FileHandle.standardError.write(Data("warning: the runtime process(es) \(pids) have not loaded the change yet; it takes effect at their next key refresh\n".utf8))
                }
            } catch {
                FileHandle.standardError.write(Data("warning: cannot tell whether the running runtime loaded the change: \(error)\n".utf8))
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (the only time it is shown).")
        @OptionGroup var options: Options
        @Option(help: "A unique name for the key (its subject).") var name: String
        @Option(help: "The tenant the key belongs to.") var tenant: String?
        @Option(help: "Roles, comma-separated.") var roles = ""
        @Option(help: "Scopes, comma-separated.") var scopes = ""

        func run() throws {
            let (options, name, tenant, roles, scopes) = (options, name, tenant, roles, scopes)
            try blockingAwait { try await Self.create(options, name: name, tenant: tenant, roles: roles, scopes: scopes) }
        }

        static func create(_ options: Options, name: String, tenant: String?, roles: String, scopes: String) async throws {
            let store = try await options.open()
            let split = { (text: String) in Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
            let created = try await store.create(name: name, tenant: tenant, roles: split(roles), scopes: split(scopes))
            await options.waitUntilServed(store)
            print(created.plaintext)
            FileHandle.standardError.write(Data("created key \(created.record.id) '\(name)'; store it now: it cannot be shown again\n".utf8))
            await store.close()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var options: Options

        func run() throws {
            let options = options
            try blockingAwait { try await Self.list(options) }
        }

        static func list(_ options: Options) async throws {
            let store = try await options.open()
            let rows = try await store.list().map { key in
                [key.id, key.name, key.tenant ?? "-", key.roles.sorted().joined(separator: ","), key.scopes.sorted().joined(separator: ","),
                 "…" + key.hint, key.isRevoked ? "revoked" : "active"]
            }
            print(Table.render(header: ["ID", "NAME", "TENANT", "ROLES", "SCOPES", "ENDS", "STATE"], rows: rows))
            await store.close()
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id or name.")
        @OptionGroup var options: Options
        @Argument(help: "The key's id or name.") var key: String

        func run() throws {
            let (options, key) = (options, key)
            try blockingAwait { try await Self.revoke(options, key: key) }
        }

        static func revoke(_ options: Options, key: String) async throws {
            let store = try await options.open()
            let record = try await store.revoke(idOrName: key)
            await options.waitUntilServed(store)
            print("revoked \(record.id) '\(record.name)'")
            await store.close()
        }
    }
}
