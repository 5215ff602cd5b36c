#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Closes a file descriptor: the spool and the spool reader use POSIX files for `flock`, and
/// inside their types `close` names their own methods.
@inline(__always) func closeFileDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
