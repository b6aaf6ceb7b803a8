import CPlexusShims
import Foundation

/// Memory the supervising master shares with one worker (`MAP_SHARED`), as the access log ring
/// and the counter region use it: the master makes a memfd whose size is sealed (no process that
/// holds it can shrink it under another's mapping, a SIGBUS on the next read, nor grow it), maps
/// it and keeps the descriptor until the spawn has passed it on; the worker maps the descriptor
/// it inherited, after checking its size, and closes it. Without a supervisor: anonymous memory.
/// Unmapped when the object goes away.
final class SharedMemory {
    /// The start of the mapping.
    let base: UnsafeMutableRawPointer
    /// Bytes mapped.
    let size: Int
    /// The master's memfd until ``closeDescriptor()`` (-1: none, or the worker's, closed once mapped).
    private(set) var descriptor: Int32 = -1

    private init(fd: Int32, size: Int, what: String) throws {
        let flags = fd < 0 ? (MAP_SHARED | MAP_ANONYMOUS) : MAP_SHARED
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, flags, fd, 0), memory != MAP_FAILED else {
            throw RuntimeError.config("\(what) cannot be mapped: \(String(cString: strerror(errno)))")
        }
        (base, self.size) = (memory, size)
    }

    /// `size` zero bytes of anonymous memory (a worker's own, or an unsupervised runtime's).
    convenience init(anonymous size: Int, what: String) throws {
        try self.init(fd: -1, size: size, what: what)
    }

    /// The master's side: a sealed memfd named `name` of `size` zero bytes, mapped here;
    /// ``descriptor`` is what the worker inherits. `what` names it in errors.
    static func sealed(name: String, size: Int, what: String) throws -> SharedMemory {
        let fd = plexus_sealed_memfd(name, UInt64(size))
        guard fd >= 0 else { throw RuntimeError.config("\(what) (memfd) cannot be made: \(String(cString: strerror(-fd)))") }
        do {
            let memory = try SharedMemory(fd: fd, size: size, what: what)
            memory.descriptor = fd
            return memory
        } catch {
            close(fd)
            throw error
        }
    }

    /// The worker's side: maps what its master passed at `fd` (closed here, mapped or not), whose
    /// size must pass `sizeIsValid` (else the error says it is `expected`).
    static func attaching(_ fd: Int32, what: String, expected: String, sizeIsValid: (Int) -> Bool) throws -> SharedMemory {
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, sizeIsValid(Int(status.st_size)) else {
            throw RuntimeError.config("the master's \(what) (descriptor \(fd)) is missing or \(expected)")
        }
        return try SharedMemory(fd: fd, size: Int(status.st_size), what: what)
    }

    deinit {
        closeDescriptor()
        munmap(base, size)
    }

    /// Closes the master's copy of the memfd (once the worker inherited it, or failed to start);
    /// the mapping stays.
    func closeDescriptor() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }
}
