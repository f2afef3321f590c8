"""Byte pipes with timeouts: TCP, USB bulk endpoints (pyusb), serial (pyserial URLs)."""
