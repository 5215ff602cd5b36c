import DNNProvModel
import Foundation
import Hummingbird
import NIOCore

/// The web UI's sign-in: `GET /login` shows a form, `POST /login` (form field `token`) checks the
/// token and keeps it in an HttpOnly, SameSite=Strict cookie (scripts cannot read it, other sites
/// cannot make the browser send it), plus a readable CSRF cookie the UI copies into the
/// `X-CSRF-Token` header of its writes. `POST /logout` clears both.
struct LoginController {
    let authenticator: Authenticator?
    let secure: Bool

    struct LoginForm: Decodable {
        var token: String
        /// Where to go after signing in (the UI view that asked for a token).
        var next: String?
    }

    /// `next` when it is a path on this server (`/#/d/mnist`), else the UI's start: a sign-in
    /// link must not send the browser to another site.
    static func localTarget(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
              !next.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }), next.utf8.count <= 2048 else { return "/" }
        return next
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/login") { request, _ in
            let next = Self.localTarget(request.uri.queryParameters.get("next"))
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: Self.page(
                                message: authenticator == nil ? "This server does not require tokens." : nil, next: next))))
        }
        router.post("/login") { request, _ in
            let body = String(decoding: try await JSONBody.bytes(request, limit: 16 << 10), as: UTF8.self)
            guard let form = try? URLEncodedFormDecoder().decode(LoginForm.self, from: body) else {
                throw ProvError.badRequest("expected a form with the field 'token'")
            }
            var response = Response(status: .seeOther, headers: [.location: Self.localTarget(form.next)])
            guard let authenticator else { return response }
            guard try await authenticator.principal(secret: form.token) != nil else {
                throw ProvError.unauthorized("the token is unknown or revoked")
            }
            // Only a secret we issued reaches the cookie, so its characters are cookie-safe.
            response.setCookie(Cookie(name: AuthMiddleware.sessionCookie, value: form.token, path: "/", secure: secure,
                                      httpOnly: true, sameSite: .strict))
            response.setCookie(Cookie(name: AuthMiddleware.csrfCookie, value: Self.randomHex(), path: "/", secure: secure,
                                      httpOnly: false, sameSite: .strict))
            return response
        }
        router.post("/logout") { _, _ in
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            for name in [AuthMiddleware.sessionCookie, AuthMiddleware.csrfCookie] {
                response.setCookie(Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict))
            }
            return response
        }
    }

    /// Text safe inside an HTML attribute value.
    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func randomHex() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func page(message: String?, next: String = "/") -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>dnnprov: sign in</title>
        <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto}input{width:100%;padding:.4rem}</style>
        </head><body>
        <h1>dnnprov</h1>
        \(message.map { "<p>\($0)</p>" } ?? "")
        <form method="post" action="/login">
        <input type="hidden" name="next" value="\(Self.escaped(next))">
        <label for="token">API token (<code>dnnprov token create --role reader</code>)</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
        <p><button type="submit">Sign in</button></p>
        </form></body></html>
        """
    }
}
