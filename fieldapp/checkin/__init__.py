"""Check-in and check-out with protective equipment, the site poster, and the attendance list."""
