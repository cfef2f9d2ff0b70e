"""The local target: apps as supervised processes behind a built-in router (embedded default)."""
