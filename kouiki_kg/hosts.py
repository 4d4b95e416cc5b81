"""The site's own URL: from configuration, never from a client's headers.

Pages, the sitemap, robots.txt, schema.org data and cache keys name the URL a request was made
to (`request.url_root`). Taken from the `Host` header alone, anyone could make them name
`https://evil.example/` — and cache that copy for everyone.

- With KOUIKI_PUBLIC_URL (`https://kouiki.example.jp/`), every request is answered as if made to
  that URL, whatever `Host` or `X-Forwarded-*` say.
- Without it, a request's host must be a loopback name (127.0.0.1, localhost, ::1), the host
  `serve --host` binds, the warm pass's URL, or one of KOUIKI_ALLOWED_HOSTS; any other is
  400 bad_host. With KOUIKI_TRUSTED_PROXIES, the proxy's X-Forwarded-Host is believed, and held
  to the same list.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config
from .errors import ApiError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class PublicURL:
    """WSGI middleware: every request as if made to the configured public URL."""

    def __init__(self, app, url: str):
        parts = urlsplit(url)
        self.app, self.scheme, self.host, self.prefix = app, parts.scheme, parts.netloc, parts.path.rstrip("/")

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SCRIPT_NAME"] = self.prefix  # a proxy serving us under a path strips it from PATH_INFO
        for forwarded in ("HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PREFIX"):
            environ.pop(forwarded, None)
        return self.app(environ, start_response)


def _hostname(host: str) -> str:
    """A Host header's name without its port ([::1]:8000 → ::1)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(config: Config) -> set[str]:
    """Host names (any port) and host:port pairs a request may name when no public URL is set."""
    allowed = set(LOOPBACK) | {h.strip().lower() for h in config.allowed_hosts if h.strip()}
    if config.warm_url:
        allowed.add(urlsplit(config.warm_url).netloc.lower())
    return allowed


def install(app: Flask, config: Config) -> None:
    """Make the app name itself as configured (see the module's docstring)."""
    if config.public_url:
        app.wsgi_app = PublicURL(app.wsgi_app, config.public_url)
        return
    if config.trusted_proxies:  # the scheme and host visitors used, which the proxy passes on
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies,
                                x_host=config.trusted_proxies)
    allowed = allowed_hosts(config)

    @app.before_request
    def host_is_allowed():
        host = request.host.lower()
        if host not in allowed and _hostname(host) not in allowed:
            raise ApiError(400, "bad_host",
                           f"このサーバーは {host} という名前では応答しません（KOUIKI_PUBLIC_URL か KOUIKI_ALLOWED_HOSTS を設定してください）。",
                           f"This server does not answer to the name {host} (set KOUIKI_PUBLIC_URL or KOUIKI_ALLOWED_HOSTS).")
