"""The shared core both sides stand on: records, errors, fields, the wire protocol, units, care rules.

Imports the standard library only (an import-linter contract in ``make lint``): the patient app
(everything else under ``companion/`` but ``clinic/``) and the clinic (``companion/clinic/``) both
import it, and it imports neither.
"""
