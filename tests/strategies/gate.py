"""Holds a test strategy that hangs until the test releases it."""

import threading

RELEASE = threading.Event()
