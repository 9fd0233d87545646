"""Hub Tracker: watch the open-model ecosystem on the Hugging Face Hub."""

__version__ = "0.1.0"
