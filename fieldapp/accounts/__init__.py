"""Accounts: sign-in with phone and PIN/password, enrollment codes, device sessions, the profile."""
