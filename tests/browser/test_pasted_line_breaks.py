"""Text pasted from Word into the SJA form on a 360 px phone: its line breaks (U+000B in Word's plain text) are
line breaks in a text box and spaces in a one-line field, so changing the SJA later keeps the words apart (the
new user's find: the step "Heise rekkverk opp" + "Med kran" came back from the edit form as "oppMed kran")."""
import pytest
from helpers import PIN, sign_in_ui, wait_until

from fieldapp.models import Report, Sja, SjaHazard, SjaStep


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def paste(page, selector, text):
    """What a paste does to a field: its value changes and an input event follows."""
    page.focus(selector)
    page.evaluate("([s, t]) => { const f = document.querySelector(s); f.value = t;"
                  " f.dispatchEvent(new InputEvent('input', {bubbles: true, inputType: 'insertFromPaste'})); }",
                  [selector, text])


def test_word_line_breaks_in_an_sja_survive_an_edit(live, page, csp_violations):
    world = live.world
    sign_in_ui(page, live.url, world.people["foreman"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/sja/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.fill("#title", "Rekkverk på dekke 4")
    paste(page, "#operation", "Heise rekkverk\u000bMontere på kanten")
    paste(page, "#step-0-title", "Heise rekkverk opp\u000bMed kran")
    assert page.input_value("#step-0-title") == "Heise rekkverk opp Med kran"  # as it will be saved
    paste(page, "#step-0-hazard-0-cause", "Fall fra dekkekant\u000cUsikret kant")
    page.select_option("#step-0-hazard-0-probability", "2")
    page.select_option("#step-0-hazard-0-severity", "2")
    page.click("button.send")
    wait_until(page, "/\\/sja\\/\\d+$/.test(location.pathname)", timeout=15)
    sja = Sja.get(Sja.title == "Rekkverk på dekke 4")
    assert sja.operation == "Heise rekkverk\nMontere på kanten"
    assert SjaStep.get(SjaStep.sja == sja).title == "Heise rekkverk opp Med kran"

    page.goto(f"{live.url}/s/{world.site.id}/sja/{sja.id}/edit")
    assert page.input_value("#step-0-title") == "Heise rekkverk opp Med kran"
    assert page.input_value("#step-0-hazard-0-cause") == "Fall fra dekkekant Usikret kant"
    page.fill("#place", "Dekke 4, akse B")
    page.click("button.send")
    wait_until(page, "/\\/sja\\/\\d+$/.test(location.pathname)", timeout=15)
    step = SjaStep.select().join(Sja).where(Sja.title == "Rekkverk på dekke 4").order_by(SjaStep.id.desc()).first()
    assert step.title == "Heise rekkverk opp Med kran"
    assert SjaHazard.get(SjaHazard.step == step).cause == "Fall fra dekkekant Usikret kant"
    assert csp_violations == []


def test_an_invisible_control_character_is_dropped_as_it_is_pasted(live, page, csp_violations):
    """The new user's find: a NUL pasted into a report made the server refuse the whole form ("type the text again")
    and the person could not see which character to take out. The page drops it as it comes."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("label.choice:has(input[value=falls])")
    paste(page, "textarea[name=description]", "Løs planke\u0000 i 3. etasje\u001b\u000bSperret av")
    assert page.input_value("textarea[name=description]") == "Løs planke i 3. etasje\nSperret av"
    page.click("button.send")
    wait_until(page, "document.querySelectorAll('.outbox-item.state-sent').length === 1", timeout=15)
    assert Report.get(Report.description.startswith("Løs planke")).description == "Løs planke i 3. etasje\nSperret av"


def test_a_refused_item_with_a_control_character_is_edited_without_it(live, page, csp_violations):
    """An item kept with a NUL (queued before the page dropped them, or by a script) is refused by the server; its
    Edit opens the form without the character, so sending it again works."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    page.click("label.choice:has(input[value=falls])")
    # Set without an input event: as a value that came into the outbox some other way.
    page.evaluate("document.querySelector('textarea[name=description]').value = 'Hull i dekket\\u0000 ved trappa'")
    page.click("button.send")
    wait_until(page, "document.querySelectorAll('.outbox-item.state-failed').length === 1", timeout=15)
    assert not Report.select().where(Report.description.startswith("Hull i dekket")).exists()
    uuid = page.evaluate("window.fieldappOutbox.all().then(items => items.find(i => i.state === 'failed').uuid)")
    page.goto(f"{live.url}/outbox")
    page.click(f".outbox-item[data-uuid='{uuid}'] button[data-action=edit]")
    page.wait_for_url(f"**/reports/new?outbox={uuid}")
    wait_until(page, "document.querySelector('textarea[name=description]').value === 'Hull i dekket ved trappa'")
    page.click("button.send")
    wait_until(page, "document.querySelectorAll('.outbox-item.state-sent').length === 1", timeout=15)
    assert Report.get(Report.description.startswith("Hull i dekket")).description == "Hull i dekket ved trappa"


def real_paste(page, selector, text):
    """A paste as the browser fires it: a ClipboardEvent holding the text, on the focused field."""
    page.focus(selector)
    page.evaluate("([s, t]) => { const data = new DataTransfer(); data.setData('text/plain', t);"
                  " document.querySelector(s).dispatchEvent(new ClipboardEvent('paste',"
                  " {clipboardData: data, bubbles: true, cancelable: true})); }", [selector, text])


def test_a_cleaned_paste_can_be_undone_and_counts_only_what_is_kept(live, page, csp_violations):
    """The breaker's finds: after a paste holding a NUL was cleaned, Ctrl+Z undid nothing (setting the value wiped
    the field's history); and the field's maxlength was used up by characters then dropped, so the end was lost."""
    world = live.world
    sign_in_ui(page, live.url, world.people["worker"].phone, PIN)
    page.goto(f"{live.url}/s/{world.site.id}/reports/new")
    wait_until(page, "window.fieldappOutbox !== undefined")
    description = "textarea[name=description]"
    page.click("label.choice:has(input[value=falls])")
    page.click("details.more summary")  # the text field is under "Text, place and severity"
    page.click(description)
    page.keyboard.type("Loose plank ")
    real_paste(page, description, "on\u0000 level\u000b3")
    assert page.input_value(description) == "Loose plank on level\n3"
    page.keyboard.press("Control+z")
    # The paste is undone (Chromium may undo the typing before it in the same step): before, nothing was.
    assert page.input_value(description) in ("Loose plank ", "")
    limit = int(page.get_attribute(description, "maxlength"))
    page.fill(description, "")
    real_paste(page, description, "word\u0000" * (limit // 5) + "END")
    assert page.input_value(description).endswith("END")
