"""Fieldapp HMS: create_app() builds the Flask app from configuration and the feature blueprints."""
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (authz, cli, clock, config, db, headers, htmx, i18n, inputs, instance, keys, phone_time,
               static_files, storage, templating, urls)
from .config import PROJECT_ROOT
from .extensions import babel, compress, csrf
from .shell import errors


def create_app(test_config=None):
    test_config = dict(test_config or {})
    settings = config.settings()
    instance_path = settings.pop("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=test_config.pop("INSTANCE_PATH", None) or instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.json = inputs.JSONProvider(app)  # bad JSON of any shape is bad input (fieldapp/inputs.py)
    app.request_class = inputs.FormRequest  # a broken form of any shape is bad input too
    app.config.from_object(config.Defaults)
    app.config.update(settings)  # FIELDAPP_SECRET_KEY=..., FIELDAPP_DEBUG=... (config.settings)
    app.config.update(test_config)
    app.config.setdefault(
        "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "fieldapp.db"))
    instance.prepare(app)
    app.config.setdefault("VAPID_PUBLIC_KEY", instance.vapid_public_key(app.config["VAPID_PRIVATE_KEY_PATH"]))
    if app.config["SESSION_COOKIE_NAME"] == "session":
        # __Host-: the browser keeps the cookie to this host, path / and HTTPS only.
        secure = app.config["SESSION_COOKIE_SECURE"]
        app.config["SESSION_COOKIE_NAME"] = "__Host-fieldapp" if secure else "fieldapp_session"

    if app.config["TRUSTED_PROXIES"]:
        # The client's address and scheme from the proxies' headers: the per-address sign-in limit
        # and https links need them. Only as many hops as configured are believed.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    urls.init_app(app)  # before any route: ids bounded to the database's integers
    db.init_app(app)
    keys.check(app)  # the same keys as every other node, or refuse to start (issue 23)
    authz.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=clock.zone_name,
        default_translation_directories=str(PROJECT_ROOT / "fieldapp" / "translations"),
    )
    csrf.init_app(app)
    htmx.init_app(app)
    headers.init_app(app)
    templating.init_app(app)
    static_files.init_app(app)
    compress.init_app(app)
    clock.init_app(app)
    phone_time.init_app(app)
    storage.init_app(app)

    # Here, not at the top: `import fieldapp` (the worker, the CLI's helpers) does not import every view.
    from .accounts.views import bp as accounts_bp
    from .alerts.views import bp as alerts_bp
    from .checkin.views import bp as checkin_bp
    from .competence.views import bp as competence_bp
    from .duties.views import bp as duties_bp
    from .meetings.views import bp as meetings_bp
    from .reports.views import bp as reports_bp
    from .rounds.views import bp as rounds_bp
    from .shell.views import bp as shell_bp
    from .sites.views import bp as sites_bp
    from .sja.views import bp as sja_bp
    from .stats.views import bp as stats_bp

    app.register_blueprint(shell_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(sites_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(sja_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(competence_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(duties_bp)
    errors.init_app(app)
    cli.init_app(app)
    return app
