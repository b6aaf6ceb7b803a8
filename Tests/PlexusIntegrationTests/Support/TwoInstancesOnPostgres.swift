import Foundation
import PlexusTesting
import PostgresTestSupport

extension Repository {
    /// Two plexus instances on a new database of the shared PostgreSQL test cluster: A with the
    /// notes fixture, B with `bPlugins`. Returns the cluster, the database's URL and both
    /// instances; the caller stops them (A is stopped here when B does not start).
    static func twoInstancesOnOneDatabase(bPlugins: [String] = ["libPlexusFixtureNotes.so"])
        throws -> (cluster: PostgresTestCluster, url: String, a: TestRuntime, b: TestRuntime) {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [], extra: extra)
        do {
            return (cluster, url, a, try startPlexus(swiftPlugins: bPlugins, cFixtures: [], extra: extra))
        } catch {
            _ = a.stop()
            throw error
        }
    }

    /// The states (`pg_trigger.tgenabled`: `O` enabled, `D` disabled) of the notes fixture's
    /// change-log triggers in the database at `url`.
    static func notesChangeTriggerStates(_ cluster: PostgresTestCluster, _ url: String) throws -> Set<String> {
        Set(try cluster.execute("""
            SELECT g.tgenabled FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            WHERE c.relnamespace = 'plugin_notes'::regnamespace AND g.tgname LIKE '\\_plexus\\_changes%'
            """, url: url))
    }
}
