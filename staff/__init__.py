"""Staff accounts and their roles: the people who use the console."""
