"""CSV import of certificates by a manager (issue 19): a dry run first, every row's error, never half an import."""
import io
from datetime import date

from fieldapp.models import AuditEvent, TrainingRecord

HEADER = "phone;course;taken_on;expires_on;issuer;certificate_number\n"


def upload(client, site, text, **form):
    data = {"file": (io.BytesIO(text.encode() if isinstance(text, str) else text), "records.csv"), **form}
    return client.post(f"/s/{site.id}/competence/import", data=data, content_type="multipart/form-data")


def test_a_dry_run_lists_the_changes_and_saves_nothing_then_the_import_saves_them(as_role, world):
    manager = as_role("manager")
    text = HEADER + "91000001;first_aid;2025-02-01;;Røde Kors;FA-1\n+4791000002;truck;01.03.2024;;;T-9\n"
    dry = upload(manager, world.site, text)
    page = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "Prøvekjøring: 2 kursbevis blir lagt til" in page
    assert "Worker Person" in page and "Foreman Person" in page
    assert TrainingRecord.select().count() == 0
    done = manager.post(f"/s/{world.site.id}/competence/import", data={"confirm": "y", "text": text})
    assert done.status_code == 200 and "2 kursbevis importert" in done.get_data(as_text=True)
    rows = {r.course: r for r in TrainingRecord.select()}
    assert rows["first_aid"].status == "approved" and rows["first_aid"].expires_on == date(2027, 2, 1)
    assert rows["truck"].taken_on == date(2024, 3, 1) and rows["truck"].expires_on is None
    assert AuditEvent.select().where(AuditEvent.action == "competence.record.import").count() == 2
    # The same file again adds nothing (sent twice, saved once).
    again = upload(manager, world.site, text, confirm="y")
    assert "allerede lagret" in again.get_data(as_text=True)
    assert TrainingRecord.select().count() == 2


def test_every_rows_error_is_listed_and_nothing_is_imported(as_role, world):
    text = HEADER + ("91000001;first_aid;2025-02-01;;;\n"  # fine
                     "91000001;first_aid;2025-02-01;;;\n"  # the same again
                     "91000002;first_aid;2025/02/01;;;\n"  # a wrong date format
                     "91000003;welding;2025-02-01;;;\n"  # an unknown course type
                     "99999999;first_aid;2025-02-01;;;\n"  # nobody of the organization or the site
                     "91000004;first_aid;2025-02-01;2024-01-01;;\n")  # expiry before taken
    response = upload(as_role("manager"), world.site, text, confirm="y")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ingenting ble importert: 5 rader har feil" in page
    for words in ("mer enn én gang", "ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ", "Velg en kurstype",
                  "Ingen med dette telefonnummeret", "Utløpsdatoen kan ikke være før"):
        assert words in page, words
    assert TrainingRecord.select().count() == 0


def test_wrong_columns_or_no_text_are_refused_as_a_whole(as_role, world):
    manager = as_role("manager")
    wrong = upload(manager, world.site, "name;course;date\nOla;truck;2024-01-01\n")
    assert wrong.status_code == 422 and "Første rad i filen må navngi kolonnene" in wrong.get_data(as_text=True)
    empty = upload(manager, world.site, HEADER)
    assert empty.status_code == 422 and "ingen rader" in empty.get_data(as_text=True)
    binary = upload(manager, world.site, b"\xff\xfe\x00\x00garbage")
    assert binary.status_code == 422 and "ikke en CSV-tekstfil" in binary.get_data(as_text=True)
    assert TrainingRecord.select().count() == 0


def test_a_subcontractors_worker_on_the_site_is_imported_waiting_for_their_employer(as_role, world):
    """The new-user test: Piotr of Nordlys Elektro, on the site, was refused. The import is an approval only
    for the manager's own employer's people; his record waits for a foreman or manager of Nordlys."""
    piotr = world.person("+4791000011", "Piotr Nowak", "worker", world.site, employer=world.sub)
    text = HEADER + "91000011;first_aid;2025-02-01;;;\n91000001;truck;2024-03-01;;;\n"
    manager = as_role("manager")
    dry = upload(manager, world.site, text).get_data(as_text=True)
    assert "Piotr Nowak" in dry and "venter på godkjenning fra en formann eller leder i Nordlys Elektro AS" in dry
    assert manager.post(f"/s/{world.site.id}/competence/import",
                        data={"confirm": "y", "text": text}).status_code == 200
    rows = {r.user_id: r for r in TrainingRecord.select()}
    assert rows[piotr.id].status == "pending" and rows[piotr.id].decided_by_id is None
    assert rows[world.people["worker"].id].status == "approved"
    pending = as_role("foreman").get(f"/s/{world.site.id}/competence/pending").get_data(as_text=True)
    assert f'data-record="{rows[piotr.id].id}"' in pending


def test_a_person_neither_employed_nor_on_the_site_is_refused(as_role, world):
    outsider_of_site = world.person("+4791000013", "Elsewhere Worker", "worker", world.other_site,
                                    employer=world.sub)
    assert outsider_of_site.phone == "+4791000013"
    response = upload(as_role("manager"), world.site, HEADER + "91000013;first_aid;2025-02-01;;;\n")
    assert response.status_code == 422 and "Ingen med dette telefonnummeret" in response.get_data(as_text=True)
    assert TrainingRecord.select().count() == 0


def test_a_row_lists_both_an_unknown_person_and_an_unknown_course(as_role, world):
    response = upload(as_role("manager"), world.site, HEADER + "99999999;welding;2025-02-01;;;\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    row = page[page.index('class="import-error"'):]
    row = row[:row.index("</tr>")]
    assert "Ingen med dette telefonnummeret" in row and "Velg en kurstype" in row


def test_the_import_page_lists_the_course_codes_in_the_readers_language(as_role, world):
    page = as_role("manager").get(f"/s/{world.site.id}/competence/import").get_data(as_text=True)
    assert "<code>first_aid</code>" in page and "Førstehjelp" in page
    assert "<code>hot_work</code>" in page and "Sertifikat for varme arbeider" in page


def test_only_a_manager_imports(as_role, world):
    for role in ("worker", "foreman", "verneombud"):
        assert upload(as_role(role), world.site, HEADER + "91000001;first_aid;2025-02-01;;;\n",
                      confirm="y").status_code == 403
    assert TrainingRecord.select().count() == 0


def test_excel_files_in_cp1252_or_utf8_with_semicolons_or_commas_keep_their_letters(as_role, world):
    """Excel on a Norwegian Windows saves "CSV (semikolonseparert)" as cp1252; others save UTF-8, with or
    without BOM, and some with commas. Every one is read, and æøå arrive as written."""
    manager = as_role("manager")
    files = [
        ("cp1252", ";", b"", "Brannvern Sør"),
        ("cp1252", ",", b"", "Førstehjelp Ås"),
        ("utf-8", ";", b"\xef\xbb\xbf", "Blåbærskogen kurs"),
        ("utf-8", ",", b"", "Ærlige Øvelser"),
    ]
    for n, (encoding, sep, bom, issuer) in enumerate(files):
        header = sep.join(("phone", "course", "taken_on", "expires_on", "issuer", "certificate_number"))
        line = sep.join(("91000001", "first_aid", f"2025-02-0{n + 1}", "", issuer, f"FÅ-{n}"))
        data = bom + f"{header}\r\n{line}\r\n".encode(encoding)
        if encoding == "cp1252":
            with_error = None
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as e:
                with_error = e
            assert with_error is not None  # the case the import used to refuse
        response = upload(manager, world.site, data, confirm="y")
        assert response.status_code == 200, (encoding, sep, response.get_data(as_text=True)[:500])
        assert "1 kursbevis importert" in response.get_data(as_text=True)
    saved = {r.issuer: r.certificate_number for r in TrainingRecord.select()}
    assert saved == {issuer: f"FÅ-{n}" for n, (_e, _s, _b, issuer) in enumerate(files)}


def test_bytes_that_are_no_text_in_either_encoding_are_refused(as_role, world):
    # 0x81 and 0x8d are undefined in cp1252 and invalid UTF-8; a NUL or a form feed is no CSV text either.
    for data in (HEADER.encode() + b"91000001;first_aid;2025-02-01;;\x81\x8d;\n",
                 HEADER.encode() + b"91000001;first_aid;2025-02-01;;\x0c;\n"):
        response = upload(as_role("manager"), world.site, data, confirm="y")
        assert response.status_code == 422 and "ikke en CSV-tekstfil" in response.get_data(as_text=True)
    assert TrainingRecord.select().count() == 0


def test_a_file_csv_cannot_read_is_a_clear_422(as_role, world):
    # A quoted field longer than csv's limit (128 KB) raised _csv.Error: a 500.
    manager = as_role("manager")
    response = upload(manager, world.site, HEADER + '91000001;"' + "x" * 200_000 + '";2025-02-01;;;\n')
    assert response.status_code == 422
    assert "Filen er ikke en CSV-tekstfil" in response.get_data(as_text=True)
    assert TrainingRecord.select().count() == 0


def test_a_manager_importing_their_own_certificate_leaves_it_waiting(as_role, world):
    """The import saved the manager's own row approved by themselves (found by the breaker)."""
    manager = world.people["manager"]
    text = HEADER + f"{manager.phone};first_aid;2025-02-01;;Røde Kors;FA-1\n"
    done = as_role("manager").post(f"/s/{world.site.id}/competence/import", data={"confirm": "y", "text": text})
    assert done.status_code == 200
    row = TrainingRecord.get()
    assert (row.user_id, row.status, row.decided_by_id) == (manager.id, "pending", None)
