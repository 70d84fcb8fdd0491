"""Light and dark themes from the clinic's accent colour; comfortable sizes for large text."""

from __future__ import annotations

import flet as ft

__all__ = ["apply_theme"]


def _theme(accent: str) -> ft.Theme:
    return ft.Theme(color_scheme_seed=accent, use_material3=True)


def apply_theme(page: ft.Page, accent: str, mode: str) -> None:
    """Set both themes and the mode (``system``, ``light`` or ``dark``) on the page."""
    page.theme = _theme(accent)
    page.dark_theme = _theme(accent)
    page.theme_mode = {"light": ft.ThemeMode.LIGHT, "dark": ft.ThemeMode.DARK}.get(mode, ft.ThemeMode.SYSTEM)
