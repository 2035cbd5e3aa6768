"""Streamlit pages and components; they reach the simulator only through ``sim.api``."""
