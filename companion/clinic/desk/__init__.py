"""The PSR desk: the front desk's web console, served by the clinic server at ``/desk``.

Layers (dependencies point down)::

    companion/clinic/desk/web.py       composition: mounts the Flet app on the server's FastAPI app
    companion/clinic/desk/views/       Flet components, one per screen, each subscribed to what it renders
    companion/clinic/desk/state/       UI-free state and intents (testable without Flet): DeskState composes
                                       one small observable per concern (session, inbox, the open patient …)
    companion/clinic/desk/api.py       the staff API client in the desk's wording: its only way to the data

The desk never touches the database: every read and change goes through ``/v1/staff/…`` with a
sign-in session token, so roles, audit and the patients' sync feed apply exactly as for scripts.
"""

from __future__ import annotations
