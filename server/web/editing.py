"""Editing at /edit/ (issue 20), turned on in an app: its sessions and sign-in rate limit, the
editor's blueprints (each behind edit_guard.guard) and the private headers of every answer under
/edit/. create_app calls `register` only when settings.editing; otherwise /edit/ is not found, as any
unknown path.
"""

from flask import Flask

from . import edit, edit_forms, edit_review, edit_save
from .edit_guard import LIMITER, LoginLimiter, configure_sessions, csrf_token, private_headers


def register(app: Flask) -> None:
    """Turn editing on in `app`. Called before http.register, so that `private_headers` runs after the
    public pages' headers (Flask runs after_request functions in reverse order of registration)."""
    settings = app.extensions["lodpub"].settings
    configure_sessions(app, settings)
    app.extensions[LIMITER] = LoginLimiter(settings.login_attempts_per_minute)
    for module in (edit, edit_forms, edit_save, edit_review):
        app.register_blueprint(module.blueprint)
    app.after_request(private_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
