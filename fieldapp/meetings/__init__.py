"""HMS meetings (issue 21): site HMS meetings, AMU, start-up and morning meetings, their agenda, minutes and
decisions, which are followed up as reports of kind "decision"."""
