"""Helpers the tests share: the server harness, fault proxy, TLS stub, crash children, wire clients."""
