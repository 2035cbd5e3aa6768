"""Runs, sweeps, exercises and the command line."""
