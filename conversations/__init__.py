"""The gateway's storage: tables (models), queries (repository), async access (db)."""
