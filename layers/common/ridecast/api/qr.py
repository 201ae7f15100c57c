"""QR codes of links, drawn as inline SVG for the admin to print or show (GET /drivers/{id}/telegram-link)."""


def qr_svg(url: str, title: str) -> str:
    import segno  # only this route draws QR codes; keep it off every other cold start

    svg: str = segno.make(url, error="m").svg_inline(scale=4, title=title)
    return svg
