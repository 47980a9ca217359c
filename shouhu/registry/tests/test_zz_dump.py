import os
import pytest
from shouhu.core.documents import services, storage
from shouhu.registry.tests.test_documents import agreement  # noqa: F401

@pytest.mark.skipif(not os.environ.get("DUMP_DOCS"), reason="dev only")
def test_dump(users, agreement):  # noqa: F811
    for kind, oid in (("registry.child_file", agreement.child_id), ("registry.entrustment_confirmation", agreement.pk), ("registry.guardian_notice", agreement.pk)):
        doc = services.document_generate(actor=users["vw"], kind=kind, owner_id=oid, base_url="https://shouhu.example.gov.cn/")
        open(f"/tmp/{kind}.pdf","wb").write(storage.load_by_id(doc.content_id))
