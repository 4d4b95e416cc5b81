"""create_app(config) — builds the Flask app; registers the views, nothing else."""

from __future__ import annotations

from flask import Flask

from .config import Config


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__)
    app.config["KOUIKI"] = config or Config.from_env()
    app.json.ensure_ascii = False  # Japanese stays readable in JSON answers

    from .views import health

    app.register_blueprint(health.bp)
    return app
