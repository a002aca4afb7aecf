"""Safety walkarounds (vernerunder): checklists, rounds on the phone (offline too), findings followed up as
reports, sign-off by the verneombud and the employer's side, reminders when a round is due, the PDF."""
