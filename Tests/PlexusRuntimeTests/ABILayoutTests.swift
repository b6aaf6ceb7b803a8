import CPlexusABI
@testable import PlexusRuntime
import XCTest

/// The ABI's structs are append-only: these offsets are part of ABI 1 and must never change.
/// A new field goes at the end of its struct (and bumps PLEXUS_ABI_MINOR).
final class ABILayoutTests: XCTestCase {
    func testMinor1FieldsFollowMinor0() {
        // ABI 1.1 appended these after stop_complete (host) and on_destroy (descriptor).
        let host: [(PartialKeyPath<plexus_host>, Int)] = [
            (\.publish, 120), (\.subscribe, 128), (\.unsubscribe, 136), (\.ack, 144), (\.service_register, 152),
            (\.service_call, 160), (\.service_reply, 168), (\.kv_get, 176), (\.kv_put, 184), (\.kv_delete, 192),
            (\.kv_list, 200), (\.sql_execute, 208), (\.sql_query, 216), (\.sql_batch, 224), (\.sql_migrate, 232),
        ]
        for (path, offset) in host {
            XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.publishes), 120)
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.publish_count), 128)
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 1)
    }

    func testMinor2FieldsFollowMinor1() {
        // ABI 1.2 appended the caller to the request and access rules to the route spec.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 2)
        let request: [(PartialKeyPath<plexus_request>, Int)] = [(\.subject, 128), (\.tenant, 144), (\.roles, 160), (\.scopes, 176)]
        for (path, offset) in request {
            XCTAssertEqual(MemoryLayout<plexus_request>.offset(of: path), offset, "\(path)")
        }
        let spec: [(PartialKeyPath<plexus_route_spec>, Int)] = [
            (\.access, 48), (\.tenant_required, 52), (\.roles, 56), (\.scopes, 64), (\.summary, 72), (\.request_schema, 80),
            (\.response_schema, 88), (\.response_status, 96), (\.timeout_ms, 104),
        ]
        for (path, offset) in spec {
            XCTAssertEqual(MemoryLayout<plexus_route_spec>.offset(of: path), offset, "\(path)")
        }
    }

    func testMinor3FieldsFollowMinor2() {
        // ABI 1.3 appended metrics to the host and declared config keys to the descriptor.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 3)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.metric_register), 240)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.metric_record), 248)
        // The 1.2 descriptor ended at 136 (publish_count at 128, then padding): 1.3 starts after it,
        // so the padding of an older plugin's descriptor is never read as a field.
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.config_keys), 136)
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.config_key_count), 144)
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.config_keys_declared), 148)
        let spec: [(PartialKeyPath<plexus_metric_spec>, Int)] = [
            (\.struct_size, 0), (\.kind, 4), (\.name, 8), (\.help, 16), (\.label_names, 24), (\.label_count, 32),
            (\.buckets, 40), (\.bucket_count, 48),
        ]
        for (path, offset) in spec {
            XCTAssertEqual(MemoryLayout<plexus_metric_spec>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(PLEXUS_METRIC_COUNTER.rawValue, 0)
        XCTAssertEqual(PLEXUS_METRIC_GAUGE.rawValue, 1)
        XCTAssertEqual(PLEXUS_METRIC_HISTOGRAM.rawValue, 2)
        XCTAssertEqual(PLEXUS_METRIC_ADD.rawValue, 0)
        XCTAssertEqual(PLEXUS_METRIC_SET.rawValue, 1)
        XCTAssertEqual(PLEXUS_METRIC_OBSERVE.rawValue, 2)
    }

    func testMinor5FieldsFollowMinor4() {
        // ABI 1.5 appended alert_raise to the host, after 1.4's 280 bytes.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 5)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.alert_raise), 280)
    }

    func testMinor7FieldsFollowMinor6() {
        // ABI 1.7 (white-label) appended the tenant directory and tenant keys to the host, after
        // 1.5's 288 bytes (1.6 appended nothing to the host), and the new plexus_tenant_entry.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 7)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.tenant_directory_publish), 288)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.tenant_key_create), 296)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.tenant_key_revoke), 304)
        let entry: [(PartialKeyPath<plexus_tenant_entry>, Int)] = [(\.struct_size, 0), (\.suspended, 4), (\.tenant, 8), (\.hosts, 16), (\.host_count, 24)]
        for (path, offset) in entry {
            XCTAssertEqual(MemoryLayout<plexus_tenant_entry>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(MemoryLayout<plexus_tenant_entry>.size, 32)
    }

    func testMinor8FieldsFollowMinor7() {
        // ABI 1.8 appended the audit log's host call after 1.7's 312 bytes.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 8)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.audit_record), 312)
        XCTAssertEqual(PLEXUS_AUDIT_SUCCESS.rawValue, 0)
        XCTAssertEqual(PLEXUS_AUDIT_FAILURE.rawValue, 1)
        XCTAssertEqual(PLEXUS_AUDIT_DENIED.rawValue, 2)
    }

    func testMinor9FieldsFollowMinor8() {
        // ABI 1.9 (PostgreSQL storage) appended the storage dialect to the host, after 1.8's 320 bytes.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 9)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.storage_dialect), 320)
        XCTAssertEqual(MemoryLayout<plexus_host>.size, 328)
    }

    func testMinor10FieldsFollowMinor9() {
        // ABI 1.10 appended the subscription's completion callback to the subscription options,
        // after 1.1's 32 bytes (a plugin built before passes struct_size 32 and is never called).
        XCTAssertEqual(PLEXUS_ABI_MINOR, 10)
        XCTAssertEqual(MemoryLayout<plexus_subscription_options>.offset(of: \.max_attempts), 24)
        XCTAssertEqual(MemoryLayout<plexus_subscription_options>.offset(of: \.ready), 32)
        XCTAssertEqual(MemoryLayout<plexus_subscription_options>.offset(of: \.ready_user), 40)
        XCTAssertEqual(MemoryLayout<plexus_subscription_options>.size, 48)
        XCTAssertEqual(MemoryLayout<plexus_host>.size, 328, "the host is unchanged")
    }

    func testMinor6FieldsFollowMinor5() {
        // ABI 1.6 appended, each in one block at the end of its struct: roles and scopes as
        // arrays to the request (after 1.2's 192 bytes) and to the route spec (after 112), and
        // the abandon hook to the descriptor (after 1.4's 160 bytes).
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 6)
        let request: [(PartialKeyPath<plexus_request>, Int)] = [(\.role_list, 192), (\.role_count, 200), (\.scope_list, 208), (\.scope_count, 216)]
        for (path, offset) in request {
            XCTAssertEqual(MemoryLayout<plexus_request>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(MemoryLayout<plexus_request>.size, 224)
        let spec: [(PartialKeyPath<plexus_route_spec>, Int)] = [(\.role_list, 112), (\.scope_list, 120), (\.role_count, 128), (\.scope_count, 132)]
        for (path, offset) in spec {
            XCTAssertEqual(MemoryLayout<plexus_route_spec>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(MemoryLayout<plexus_route_spec>.size, 136)
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.on_request_abandoned), 160)
        XCTAssertEqual(MemoryLayout<plexus_plugin>.size, 168)
        XCTAssertEqual(PLEXUS_ABANDON_DEADLINE.rawValue, 1)
        XCTAssertEqual(PLEXUS_ABANDON_CLIENT_GONE.rawValue, 2)
        XCTAssertEqual(PLEXUS_ABANDON_PLUGIN_STOPPING.rawValue, 3)
    }

    func testMinor4FieldsFollowMinor3() {
        // ABI 1.4 appended status codes to the host and the Swift compiler to the descriptor;
        // its host ended at 280 bytes, where 1.5's field begins.
        XCTAssertGreaterThanOrEqual(PLEXUS_ABI_MINOR, 4)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.last_status), 256)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.status_text), 264)
        XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: \.swift_compiler), 272)
        XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: \.swift_compiler), 152)
        // The codes are part of the ABI: never renumbered. Old codes first, then 1.4's.
        let codes: [(plexus_status, UInt32)] = [
            (PLEXUS_OK, 0), (PLEXUS_ERROR, 1), (PLEXUS_PENDING, 2),
            (PLEXUS_E_INVALID_ARGUMENT, 16), (PLEXUS_E_WRONG_STATE, 17), (PLEXUS_E_ALREADY_EXISTS, 18), (PLEXUS_E_NOT_FOUND, 19),
            (PLEXUS_E_LIMIT_REACHED, 20), (PLEXUS_E_TIMEOUT, 21), (PLEXUS_E_CANCELLED, 22), (PLEXUS_E_UNSUPPORTED, 23),
            (PLEXUS_E_REMOTE_FAILED, 24), (PLEXUS_E_REFUSED, 25),
            (PLEXUS_E_STORAGE_BUSY, 32), (PLEXUS_E_STORAGE_DISK_FULL, 33), (PLEXUS_E_STORAGE_CORRUPT, 34),
            (PLEXUS_E_STORAGE_CONSTRAINT, 35), (PLEXUS_E_STORAGE_MISUSE, 36), (PLEXUS_E_STORAGE_DENIED, 37),
            (PLEXUS_E_STORAGE_CONFLICT, 38), (PLEXUS_E_STORAGE_NOT_FOUND, 39), (PLEXUS_E_STORAGE_CLOSED, 40),
            (PLEXUS_E_STORAGE_IO, 41), (PLEXUS_E_STORAGE_INVALID_MIGRATION, 42), (PLEXUS_E_STORAGE_ABORTED, 43),
            (PLEXUS_E_STORAGE_OTHER, 44),
        ]
        for (code, value) in codes {
            XCTAssertEqual(code.rawValue, value)
            XCTAssertNotEqual(String(cString: plexus_strerror(Int32(value))), "unknown status", "\(value) has a name")
        }
        XCTAssertEqual(String(cString: plexus_strerror(3)), "unknown status")
    }

    func testVersionAndEntrySymbol() {
        XCTAssertEqual(PLEXUS_ABI_MAJOR, 1)
        XCTAssertEqual(PLEXUS_ENTRY_SYMBOL, "plexus_plugin_entry_v1")
    }

    func testHostVtableOffsetsAreFrozen() {
        let offsets: [(PartialKeyPath<plexus_host>, Int)] = [
            (\.struct_size, 0), (\.abi_major, 4), (\.abi_minor, 8), (\.runtime_version, 16), (\.uv_loop, 24),
            (\.host_private, 32), (\.log, 40), (\.config_get, 48), (\.route_add, 56), (\.respond, 64),
            (\.timer_start, 72), (\.timer_stop, 80), (\.queue_work, 88), (\.post, 96), (\.start_complete, 104),
            (\.stop_complete, 112),
        ]
        for (path, offset) in offsets {
            XCTAssertEqual(MemoryLayout<plexus_host>.offset(of: path), offset, "\(path)")
        }
    }

    func testDescriptorOffsetsAreFrozen() {
        let offsets: [(PartialKeyPath<plexus_plugin>, Int)] = [
            (\.struct_size, 0), (\.abi_major, 4), (\.abi_minor, 8), (\.name, 16), (\.version, 24), (\.description, 32),
            (\.sdk_version, 40), (\.toolchain, 48), (\.dependencies, 56), (\.dependency_count, 64), (\.ctx, 72),
            (\.on_init, 80), (\.on_start, 88), (\.on_stop, 96), (\.on_health, 104), (\.on_destroy, 112),
        ]
        for (path, offset) in offsets {
            XCTAssertEqual(MemoryLayout<plexus_plugin>.offset(of: path), offset, "\(path)")
        }
        XCTAssertEqual(PluginImage.minimumDescriptorSize, 120, "a v1.0 descriptor ends after on_destroy")
    }

    func testRequestAndResponseOffsetsAreFrozen() {
        XCTAssertEqual(MemoryLayout<plexus_request>.offset(of: \.token), 8)
        XCTAssertEqual(MemoryLayout<plexus_request>.offset(of: \.request_id), 112)
        XCTAssertEqual(MemoryLayout<plexus_response>.offset(of: \.status), 4)
        XCTAssertEqual(MemoryLayout<plexus_response>.offset(of: \.body), 24)
        XCTAssertEqual(MemoryLayout<plexus_route_spec>.offset(of: \.max_body_bytes), 40)
    }
}
