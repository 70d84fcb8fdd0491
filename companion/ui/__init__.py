"""The Flet kit both Flet apps share: the patient app (:mod:`companion.views`) and the desk.

Neither side's state or services: only what a Flet screen needs to show text fields reliably
(:mod:`.field_text`). It imports Flet and the standard library, nothing of either app.
"""

from __future__ import annotations
