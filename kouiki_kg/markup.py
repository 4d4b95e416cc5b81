"""HTML and SVG text made in Python rather than in templates (links, maps, role diagrams)."""


def escaped(text: str) -> str:
    """markupsafe's escaping (& < > ' "), as a plain str. Links and maps join hundreds of escaped
    texts a page, and making each a Markup first (markupsafe.escape) cost more than the escaping;
    the whole is marked safe once, where it is joined."""
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))
