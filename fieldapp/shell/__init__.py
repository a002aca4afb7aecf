"""The app shell: home screen, manifest, service worker, offline page, health check, error pages."""
