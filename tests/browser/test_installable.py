"""Chromium itself says the app is installable: no installability errors, a clean manifest."""
import json


def test_chromium_reports_no_installability_errors(live, playwright, chromium_path, phone_profile, tmp_path):
    # Only a persistent (non-incognito) profile answers this truthfully.
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path, headless=True,
        args=["--disable-background-networking", "--disable-component-update", "--no-first-run"],
        **phone_profile)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(live.url + "/sign-in")
        page.wait_for_load_state("networkidle")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        assert manifest["url"] == live.url + "/manifest.webmanifest"
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], json.dumps(errors)
        scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == live.url + "/"
    finally:
        context.close()


def test_a_broken_manifest_would_be_caught(live, playwright, chromium_path, phone_profile, tmp_path):
    """The check above can fail: serve a manifest without icons and Chromium complains."""
    app = live.app
    original = app.view_functions["shell.manifest"]

    def no_icons():
        response = original()
        body = json.loads(response.get_data())
        body["icons"] = []
        response.set_data(json.dumps(body))
        return response

    app.view_functions["shell.manifest"] = no_icons
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path, headless=True, **phone_profile)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(live.url + "/sign-in")
        page.wait_for_load_state("networkidle")
        errors = context.new_cdp_session(page).send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert "manifest-missing-suitable-icon" in {e["errorId"] for e in errors}
    finally:
        app.view_functions["shell.manifest"] = original
        context.close()
