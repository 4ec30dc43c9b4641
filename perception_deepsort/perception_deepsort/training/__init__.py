"""Offline re-ID descriptor training kit (tools only; no node imports it)."""
