"""The web console's files (SPEC §9): one page, its style sheet and its ES modules, served as they are in the
repository (no build step). `static/` ships inside the layer as package data.

The page runs no inline script or style and talks only to its own origin, so its Content-Security-Policy
can forbid everything else: a script injected through a ride's address or a driver's name cannot run.
"""

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # data: for the Telegram QR code, drawn as an <img> of the SVG the API returns (an image runs no script).
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# The files change only with a deployment: browsers keep them and ask again with If-None-Match (a 304 costs
# an invocation but no body). `no-cache` rather than a max-age, so a new deployment's modules never meet an
# old deployment's in one page.
CACHE_CONTROL = "no-cache"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": CACHE_CONTROL,
}
PAGE = "index.html"


@dataclass(frozen=True)
class ConsoleFile:
    body: str
    content_type: str
    etag: str  # strong: the content's digest

    def fresh_for(self, if_none_match: str | None) -> bool:
        """Whether the browser's copy (its If-None-Match) is this file."""
        if not if_none_match:
            return False
        return any(tag.strip().removeprefix("W/") in (self.etag, "*") for tag in if_none_match.split(","))


@cache
def _files() -> dict[str, ConsoleFile]:
    """Every file of static/ by name, read once per container; only these names are ever served."""
    files: dict[str, ConsoleFile] = {}
    for entry in resources.files(__package__).joinpath("static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES:
            body = entry.read_text(encoding="utf-8")
            digest = hashlib.sha256(body.encode()).hexdigest()[:32]
            files[entry.name] = ConsoleFile(body, CONTENT_TYPES[suffix], f'"{digest}"')
    return files


def console_file(name: str) -> ConsoleFile | None:
    return _files().get(name)


def names() -> list[str]:
    return sorted(_files())
