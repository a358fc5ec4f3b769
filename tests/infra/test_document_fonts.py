"""The credit image can render its PDF documents: the fonts they embed are in the image, whichever
base it is built on (the local debootstrapped base or the public one deploy.sh uses)."""

from __future__ import annotations

import re

from bnpl_credit.disclosures.settings import DocumentSettings

from tests.infra._paths import ROOT, SERVICE_DOCKERFILES

BASE_SCRIPT = ROOT / "docker" / "base" / "build.sh"


def _base_packages() -> list[str]:
    match = re.search(r"^PACKAGES=(\S+)$", BASE_SCRIPT.read_text(), re.MULTILINE)
    assert match, "docker/base/build.sh has no PACKAGES= line"
    return match.group(1).split(",")


def test_the_local_base_installs_the_document_fonts() -> None:
    assert "fonts-dejavu-core" in _base_packages()


def test_the_base_image_is_rebuilt_when_its_packages_change() -> None:
    # the label compares the hash of these inputs: a package missing from it would keep a stale base
    script = BASE_SCRIPT.read_text()
    assert re.search(r'INPUTS_HASH="\$\(printf .*"\$PACKAGES"', script)


def test_the_credit_runtime_stage_has_the_fonts_the_renderer_reads() -> None:
    runtime = SERVICE_DOCKERFILES["credit"].read_text().split(" AS runtime", 1)[1]
    fields = DocumentSettings.model_fields
    regular, bold = fields["document_font"].default, fields["document_bold_font"].default
    for font in (regular, bold):
        assert font.startswith("/usr/share/fonts/truetype/dejavu/")  # where fonts-dejavu-core puts them
    assert "fonts-dejavu-core" in runtime
    assert f"test -f {regular}" in runtime
