"""Where deployments run: the local process target and (later) kubernetes."""
