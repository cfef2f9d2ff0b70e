"""Fixtures for the GitHub feedback tests: the stand-in, and a SQLite store with one project."""

from __future__ import annotations
