"""A GitHub REST API stand-in on a real loopback port, for tests and the benchmark."""
