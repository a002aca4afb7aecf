"""Issue 23 on a 360 x 780 phone: a report's photos from an S3 store (SeaweedFS) show on its page, pass the
Content-Security-Policy (served by the app, same origin), and stay in the phone's cache for use offline."""
import pytest
from helpers import PIN, add_photo_and_alert, s3_config, sign_in_ui, wait_until

from fieldapp import storage
from fieldapp.models import Photo

WIDTH, HEIGHT = 360, 780


@pytest.fixture
def photo_store_config(seaweedfs):
    """Overrides conftest's: this module's live server keeps its photos in the SeaweedFS bucket."""
    return s3_config(seaweedfs)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": WIDTH, "height": HEIGHT},
            "screen": {"width": WIDTH, "height": HEIGHT}, "locale": "nb-NO"}


def test_a_report_photo_from_s3_shows_and_is_kept_for_offline(live, page, context, csp_violations):
    world = live.world
    add_photo_and_alert(live.app, world)
    digest = Photo.get(Photo.report == world.report).digest
    assert storage.for_app(live.app).kind == "s3" and storage.for_app(live.app).exists(digest, thumb=True)
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/reports/{world.report.id}")
    thumb = f"/s/{world.site.id}/reports/{world.report.id}/thumbs/{digest}.jpg"
    image = page.locator(f"img[src='{thumb}']")
    image.wait_for()
    wait_until(page, f"document.querySelector(\"img[src='{thumb}']\").complete")
    assert image.evaluate("img => img.naturalWidth") > 0
    assert csp_violations == []
    # No signal: the thumbnail comes from the phone's HTTP cache (private, immutable), not the network.
    context.set_offline(True)
    cached = page.evaluate("url => fetch(url, {cache: 'only-if-cached', mode: 'same-origin'})"
                           ".then(r => r.status, () => 0)", thumb)
    assert cached == 200
