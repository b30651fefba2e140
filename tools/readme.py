"""Write README.md from nbs/index.ipynb without Quarto (nbdev_readme needs it); `--check` fails on drift."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    "Markdown cells as they are, code cells fenced as python; hidden (`#| hide`) cells dropped"
    nb, parts = json.loads(Path(nb_path).read_text()), []
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide'): continue
        parts.append(src if c['cell_type'] == 'markdown' else f"```python\n{src}\n```")
    head = "<!-- generated from nbs/index.ipynb by tools/readme.py; edit the notebook, not this file -->\n\n"
    return head + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    out, text = root/'README.md', render()
    if '--check' in sys.argv:
        if not out.exists() or out.read_text() != text:
            sys.exit("README.md differs from nbs/index.ipynb: run `python tools/readme.py` and commit README.md")
        print("README.md agrees with nbs/index.ipynb")
    else:
        out.write_text(text); print(f"wrote {out}")
