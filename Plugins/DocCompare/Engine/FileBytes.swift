#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files straight into a byte array (one allocation, no intermediate `Data`).
public enum FileBytes {
    /// Reads the file at `path`; throws `DocDiffError.unreadableFile` on failure.
    public static func read(path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw DocDiffError.unreadableFile(path: path, detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw DocDiffError.unreadableFile(path: path, detail: String(cString: strerror(errno))) }
        let size = Int(st.st_size)
        var failure: String?
        let result = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buf, count in
            var got = 0
            while got < size {
                let r = Glibc.read(fd, buf.baseAddress! + got, size - got)
                if r < 0 { if errno == EINTR { continue }; failure = String(cString: strerror(errno)); break }
                if r == 0 { break }
                got += r
            }
            count = got
        }
        if let failure { throw DocDiffError.unreadableFile(path: path, detail: failure) }
        return result
    }
}
