"""Hazard and incident reports (RUH): report in seconds with photos, offline too; follow them up."""
