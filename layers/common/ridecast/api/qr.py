"""QR codes of links, drawn as inline SVG for the admin to print or show (GET /drivers/{id}/telegram-link), or as
a PNG for the e-mail that sends a driver their link."""


def qr_png(url: str) -> bytes:
    """The same QR code as a PNG, to attach to an e-mail (mail clients do not show inline SVG)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def qr_svg(url: str, title: str) -> str:
    import segno  # only this route draws QR codes; keep it off every other cold start

    svg: str = segno.make(url, error="m").svg_inline(scale=4, title=title)
    return svg
