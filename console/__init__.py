"""The staff console: accounts and roles, secure login, and the shell other parts plug into.

- ``console.app.build_console(settings) -> FastAPI``: mount it, e.g. at /console.
- ``console.navigation.Section``: a section (its pages, nav entry and audit wording), listed
  in ``console.app.SECTIONS``.
- ``console.auth.Db``: the database, ``db.run_sync(work, ...)`` / ``await db.run(work, ...)``.
- ``console.auth.require_roles(*roles)``: the dependency every console route uses.
- ``console.scope``: which conversations a Care Manager may see.
- ``console.audit.record(...)``: the audit log.
"""
