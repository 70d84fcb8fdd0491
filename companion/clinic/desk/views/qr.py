"""The pairing code as a QR code image (PNG bytes), made with the pure-Python ``segno``."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_png"]


def qr_png(text: str, scale: int = 6) -> bytes:
    """A PNG of ``text`` as a QR code (error correction M, quiet zone of 2 modules)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
