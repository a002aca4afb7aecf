"""Sites and the people on them: create and edit sites, add people, give each a role per site."""
