"""The pytest plugin (entry point ``pytest11``): fixtures and options for handset tests."""

from __future__ import annotations
