"""Images a letter shows (the signature, a logo) are bounded before anything decodes
them: a 339 kB PNG of 9450×9450 pixels decompresses to 1.6 GB in every worker. Only
the image's header is read (Pillow reads the size without the pixels)."""

from __future__ import annotations

import io

MAX_PIXELS = 25_000_000  # 25 megapixels: an A4 page at 500 dpi; a signature needs 0.2


def pixel_problem(data: bytes) -> str | None:
    """Why an image is too large to decode, or None (also for what is no image Pillow
    knows: WeasyPrint then decides what it is)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        width = height = 0
    except Exception:  # not an image Pillow can read: not ours to judge
        return None
    if width * height <= MAX_PIXELS and width:
        return None
    size = f"{width}×{height} pixels" if width else "more pixels than Pillow will open"
    return (
        f"is an image of {size}, more than the {MAX_PIXELS:,} pixels an image of a letter "
        "may have; scale it down"
    )
