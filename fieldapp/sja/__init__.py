"""Safe job analysis (SJA): a crew maps a job's steps and hazards, signs that it took part, and the responsible
person decides go or no-go (issue 18)."""
