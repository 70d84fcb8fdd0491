"""Sync between the device vault and the clinic server (see DESIGN.md, Sync protocol)."""
