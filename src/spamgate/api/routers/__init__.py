"""One router per resource, mounted once by :func:`spamgate.api.app.create_app`."""
