"""The only place that writes (and reads back) result files."""
