"""The staff console: accounts and roles, secure login, and the shell other parts plug into.

- ``console.app.build_console(settings) -> FastAPI``: mount it, e.g. at /console.
- ``console.navigation.register_section(...)``: add a section (its pages and nav entry).
- ``console.auth.require_roles(*roles)``: the dependency every console route uses.
- ``console.scope``: which conversations a Care Manager may see.
- ``console.audit.record(...)``: the audit log.
"""
