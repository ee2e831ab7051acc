__version__ = "0.1.0"
USER_AGENT = f"r9s-python/{__version__}"
