"""A list page costs the same number of SQL queries for 5 rows as for 50 (no N+1)."""
from fieldapp.models import Membership, User


def add_members(world, n, start):
    for i in range(n):
        user = User.create(name=f"Person {start + i}", phone=f"+4740{start + i:06d}", employer=world.sub,
                           password_hash=None)
        Membership.create(user=user, site=world.site, role="worker")


def queries_for(client, path, count_queries):
    count_queries.queries.clear()
    response = client.get(path)
    assert response.status_code == 200
    return len(count_queries.queries), response.get_data(as_text=True)


def test_people_list_queries_do_not_grow_with_rows(as_role, world, count_queries):
    client = as_role("manager")
    path = f"/s/{world.site.id}/people"
    add_members(world, 5, 0)
    few, page = queries_for(client, path, count_queries)
    assert page.count('class="row person"') == 9
    add_members(world, 45, 100)
    many, page = queries_for(client, path, count_queries)
    assert page.count('class="row person"') == 54
    assert many == few, count_queries.queries
    assert few <= 4  # session + user, membership + site, the list: a page costs almost nothing


def test_home_queries_do_not_grow_with_sites(as_role, world, count_queries):
    from fieldapp.models import Site

    client = as_role("manager")
    few, _ = queries_for(client, "/", count_queries)
    for i in range(10):
        site = Site.create(organization=world.org, name=f"S{i}", address="x", qr_token=f"t{i}")
        Membership.create(user=world.people["manager"], site=site, role="manager")
    many, page = queries_for(client, "/", count_queries)
    assert page.count('class="card site-card"') == 11
    assert many == few


def test_home_reads_the_persons_memberships_once(as_role, count_queries):
    """The walkaround card read the foreman's memberships and sites again after the page had them."""
    _n, page = queries_for(as_role("foreman"), "/", count_queries)
    assert page.count("card round-card") == 1  # the card is still there, from the memberships read once
    reads = [q for q in count_queries.queries if 'FROM "membership" AS "t1" INNER JOIN "site"' in str(q)]
    assert len(reads) == 1, reads


def test_report_list_queries_do_not_grow_with_rows(as_role, world, count_queries):
    import uuid

    from fieldapp.models import Photo, Report, utcnow

    def add_reports(n):
        for i in range(n):
            report = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site,
                                   reporter=world.people["worker"], kind="hazard", category="fire",
                                   severity="medium", happened_at=utcnow(), assignee=world.people["foreman"])
            Photo.create(report=report, digest=f"{report.id:064x}", width=10, height=10)

    client = as_role("foreman")
    path = f"/s/{world.site.id}/reports"
    add_reports(4)
    few, page = queries_for(client, path, count_queries)
    assert page.count('class="report-row') == 5
    add_reports(45)
    many, page = queries_for(client, path, count_queries)
    assert page.count('class="report-row') == 50 and page.count('class="thumb"') == 49
    assert many == few, count_queries.queries
