"""SafeCity Twin: a digital twin of a city for disasters and cyberattacks."""

__version__ = "0.1.0"
