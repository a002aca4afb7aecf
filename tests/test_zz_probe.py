import io, uuid
from helpers import jpeg
def test_probe(as_role, world):
    w = as_role("worker")
    r = w.post(f"/s/{world.site.id}/reports/new", data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "fall", "description": "Hull i gulvet",
        "photos": (io.BytesIO(jpeg()), "bilde\x00.jpg")}, content_type="multipart/form-data")
    import re; print(r.status_code, re.sub(r"\s+"," ", r.get_data(as_text=True).split("<main")[1][:1500]))
