"""Fake hardware for tests: sensors that speak the real protocols over a pty, GPIO and Modbus."""
