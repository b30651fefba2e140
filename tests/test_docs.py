"""The documentation pages without Quarto: every notebook converts to HTML (nbconvert, as a docs build would read it),
with its title, and the README shows the figures and the explorer screenshot it links to."""
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('*.ipynb')) + sorted((ROOT/'nbs'/'experiments').glob('*.ipynb'))

def title(nb_path) -> str:
    "The notebook's `# Title`: the first level-1 heading of a markdown cell"
    for c in json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells']:
        m = re.search(r'^# (.+)$', ''.join(c['source']), re.M) if c['cell_type'] == 'markdown' else None
        if m: return m.group(1).strip()
    raise AssertionError(f"{nb_path.name} has no '# Title' markdown heading")

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_converts_to_html_with_its_title(nb):
    from nbconvert import HTMLExporter
    html, _ = HTMLExporter().from_filename(str(nb))
    t = title(nb)
    words = re.findall(r'\w+', t)[:3]
    h1 = re.findall(r'<h1[^>]*>(.*?)</h1>', html, re.S)
    assert h1, f"{nb.name}: no <h1> in the HTML"
    assert all(w in h1[0] for w in words), (nb.name, t, h1[0][:200])

def test_notebooks_found():
    assert len(NOTEBOOKS) >= 18, [p.name for p in NOTEBOOKS]

def test_readme_images_exist():
    "Every image the README shows is committed (the figures and the explorer screenshot)"
    imgs = re.findall(r'!\[[^\]]*\]\(([^)]+)\)', (ROOT/'README.md').read_text(encoding='utf-8'))
    for want in ('fig3_simple.png', 'fig4_simsiam.png', 'fig5_barlow.png', 'fig6_swav.png', 'fig7_byol.png', 'explorer.png'):
        assert any(i.endswith(want) for i in imgs), (want, imgs)
    for i in imgs:
        assert (ROOT/i).is_file() and (ROOT/i).stat().st_size > 10_000, i
