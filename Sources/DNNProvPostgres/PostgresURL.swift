import DNNProvModel
import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL, `postgresql://user[:password]@host[:port]/database[?sslmode=...&application_name=...]`
/// (`postgres://` too), as libpq and the BI tools write it, so that one string names the database
/// for `serve`, `query` and `migrate`.
package struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String
    /// `sslmode`, as libpq reads it: `disable` (the default here), `allow` (taken as `disable`),
    /// `prefer`, `require`; `verify-ca` and `verify-full` are `require` with `certificateCheck`.
    package var sslMode: SSLMode
    /// How much of the server's certificate TLS checks: nothing for `require` and `prefer`
    /// (libpq's meaning), the chain for `verify-ca`, the chain and host name for `verify-full`.
    package var certificateCheck: CertificateVerification = .none
    package var applicationName: String?

    package enum SSLMode: String, Sendable {
        case disable, allow, prefer, require
    }

    /// Whether `string` is meant as a PostgreSQL URL rather than a SQLite path.
    package static func isPostgresURL(_ string: String) -> Bool {
        string.hasPrefix("postgresql://") || string.hasPrefix("postgres://")
    }

    /// Parses a URL; errors name the part that is wrong and never quote the password.
    package init(_ string: String) throws(ProvError) {
        guard Self.isPostgresURL(string) else {
            throw .badRequest("a PostgreSQL URL starts with postgresql:// or postgres://")
        }
        guard let c = URLComponents(string: string) else {
            throw .badRequest("the PostgreSQL URL is malformed (expected postgresql://user[:password]@host[:port]/database)")
        }
        guard let host = c.host, !host.isEmpty else {
            throw .badRequest("the PostgreSQL URL has no host (expected postgresql://user@host[:port]/database)")
        }
        // URLComponents keeps IPv6 brackets in `host`; PostgresNIO wants the bare address.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = c.port ?? 5432
        guard (1...65535).contains(port) else { throw .badRequest("the PostgreSQL URL's port \(port) is out of range") }
        guard let user = c.user, !user.isEmpty else {
            throw .badRequest("the PostgreSQL URL has no user name (expected postgresql://user@host/database)")
        }
        self.user = user
        password = c.password
        let db = String(c.path.drop(while: { $0 == "/" }))
        guard !db.isEmpty, !db.contains("/") else {
            throw .badRequest("the PostgreSQL URL names no database (expected postgresql://user@\(self.host):\(port)/database)")
        }
        database = db
        sslMode = .disable
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                if item.value == "verify-ca" || item.value == "verify-full" {
                    sslMode = .require
                    certificateCheck = item.value == "verify-ca" ? .noHostnameVerification : .fullVerification
                    continue
                }
                guard let v = item.value, let mode = SSLMode(rawValue: v) else {
                    throw .badRequest("the PostgreSQL URL's sslmode '\((item.value ?? "").clipped())' is not one of disable, allow, prefer, require, verify-ca, verify-full")
                }
                sslMode = mode
            case "application_name":
                applicationName = item.value
            default:
                throw .badRequest("the PostgreSQL URL has an unknown parameter '\(item.name.clipped())' (known: sslmode, application_name)")
            }
        }
    }

    /// The URL with the password replaced by `***`: for logs and error messages.
    package var redacted: String {
        var s = "postgresql://" + Self.encode(user)
        if password != nil { s += ":***" }
        s += "@" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)/" + Self.encode(database)
        var params: [String] = []
        switch (sslMode, certificateCheck) {
        case (.disable, _): break
        case (.require, .fullVerification): params.append("sslmode=verify-full")
        case (.require, .noHostnameVerification): params.append("sslmode=verify-ca")
        default: params.append("sslmode=\(sslMode.rawValue)")
        }
        if let applicationName { params.append("application_name=\(Self.encode(applicationName))") }
        return params.isEmpty ? s : s + "?" + params.joined(separator: "&")
    }

    package var description: String { redacted }

    /// The PostgresNIO configuration: TLS only when `sslmode` asks for it, with libpq's meaning
    /// of each mode (`require` encrypts without checking the certificate; `verify-ca` checks it
    /// against the system's trust roots; `verify-full` checks the host name too; `prefer` falls
    /// back to plain text when the server has no TLS).
    package func configuration() throws(ProvError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case .disable, .allow:
            tls = .disable
        case .prefer, .require:
            do {
                let context = try NIOSSLContext(configuration: clientTLSConfiguration)
                tls = sslMode == .prefer ? .prefer(context) : .require(context)
            } catch {
                throw .badRequest("cannot set up TLS for PostgreSQL at \(host):\(port): \(error)")
            }
        }
        var config = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        if let applicationName {
            config.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        return config
    }

    /// The client TLS configuration `sslmode` asks for (for `PostgresClient`, which takes one).
    package var clientTLSConfiguration: TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateVerification = certificateCheck
        return c
    }

    private static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/"))) ?? s
    }
}
