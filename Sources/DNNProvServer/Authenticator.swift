import DNNProvModel
import DNNProvStore
import Foundation
import NIOConcurrencyHelpers

/// Resolves token secrets to principals, with a short cache so that a request costs one
/// dictionary lookup rather than a database read. A revocation through this server takes effect
/// at once; one made by another process on the same file (`dnnprov token revoke --db`) within
/// `lifetime`.
final class Authenticator: Sendable {
    private struct Entry {
        var principal: Principal?
        var expires: ContinuousClock.Instant
    }

    let store: ProvStore
    let lifetime: Duration
    private let cache = NIOLockedValueBox([String: Entry]())

    init(store: ProvStore, lifetime: Duration = .seconds(2)) {
        self.store = store
        self.lifetime = lifetime
    }

    /// The principal of a live token, or nil.
    func principal(secret: String) async throws -> Principal? {
        let now = ContinuousClock.now
        if let hit = cache.withLockedValue({ $0[secret] }), hit.expires > now {
            return hit.principal
        }
        let principal = try await store.token(secret: secret).map { Principal(tokenID: $0.id, role: $0.role, scope: $0.scope) }
        cache.withLockedValue { c in
            // Unknown secrets are cached too (guessing costs no database reads); the size is bounded.
            if c.count > 10_000 { c.removeAll() }
            c[secret] = Entry(principal: principal, expires: now + lifetime)
        }
        return principal
    }

    /// Forgets every cached answer (after a revocation through this server).
    func invalidate() {
        cache.withLockedValue { $0.removeAll() }
    }
}
