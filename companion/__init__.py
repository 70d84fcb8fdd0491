"""Patient Companion: the patient's clinic in their pocket, encrypted and offline-first."""

__version__ = "0.1.0"
