"""Alerts from the verneombud, foremen and managers: web push, inbox, acknowledgement and escalation."""
