"""Implementation of :mod:`kgtransfer.api` (import from there)."""
