"""The runtime core every package stands on: settings, generated secrets, time, the
database engine and sessions, migrations, in-process events and per-key locks."""
