"""Passwords, TOTP, the secret vault, tokens."""
