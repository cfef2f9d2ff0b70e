"""The arq workers: delivery jobs, deploy jobs, crons, and the loops that keep them running."""
